# wm_add_plugin(<name> SOURCES <files...> [LIBRARIES <targets...>])
# wm_plugin_test(<test files...>)   in-tree only: adds the files to the plugin test binary
#
# Builds a wmhost plugin: a MODULE library wm_<name>.so that links the contract (wmsdk) and the
# toolbox libraries named in LIBRARIES (wmsdk::io, wmsdk::nn, wmsdk::video, wmsdk::sim), refuses
# unresolved symbols at link time, hides everything but its two exported entry points, and
# compiles against a precompiled LibTorch header. The linker records each toolbox's version in
# the plugin (DT_NEEDED libwmsdk_<name>.so.<n>); wmhost checks it before loading.
include_guard(GLOBAL)

function(wm_add_plugin name)
  cmake_parse_arguments(PLUGIN "" "" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT PLUGIN_SOURCES)
    message(FATAL_ERROR "wm_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${PLUGIN_SOURCES})
  if(TARGET wmsdk::wmsdk)
    target_link_libraries(${name} PRIVATE wmsdk::wmsdk ${PLUGIN_LIBRARIES})
  else()
    target_link_libraries(${name} PRIVATE wmsdk ${PLUGIN_LIBRARIES})
  endif()
  set_target_properties(${name} PROPERTIES
    PREFIX "" OUTPUT_NAME "wm_${name}"
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  if(WM_PLUGIN_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${WM_PLUGIN_OUTPUT_DIR})
  endif()
  # installed, a plugin finds the toolbox libraries beside the SDK: in tree <prefix>/lib from
  # <prefix>/lib/wmhost/plugins, out of tree the installed SDK's folder
  if(TARGET wm_plugin_pch)
    set_target_properties(${name} PROPERTIES INSTALL_RPATH "$ORIGIN/../..")
  else()
    set_target_properties(${name} PROPERTIES INSTALL_RPATH_USE_LINK_PATH TRUE)
  endif()
  if(NOT APPLE)
    target_link_options(${name} PRIVATE "LINKER:--no-undefined")
  endif()
  # in the wmhost tree every plugin shares one PCH; out of tree each builds its own
  if(TARGET wm_plugin_pch)
    target_precompile_headers(${name} REUSE_FROM wm_plugin_pch)
  else()
    target_precompile_headers(${name} PRIVATE <torch/torch.h> <wm/sdk.h>)
  endif()
  if(TARGET wm_plugins)
    add_dependencies(wm_plugins ${name})
    if(WM_PLUGIN_OUTPUT_DIR STREQUAL "${CMAKE_BINARY_DIR}/plugins")
      set_property(GLOBAL APPEND PROPERTY WM_IN_TREE_PLUGINS ${name})
    endif()
  endif()
  if(WM_PLUGIN_INSTALL_DIR)
    install(TARGETS ${name} LIBRARY DESTINATION ${WM_PLUGIN_INSTALL_DIR})
  endif()
endfunction()

# in-tree only: the options `wmhost check <name>` runs with in the test suite (its input data,
# small sizes), e.g. wm_plugin_check(videomae --params "{depth: 2}"); IN_ITS_TESTS when the
# plugin's own test runs wm::testing::conformance on fixtures it makes (files, weights)
function(wm_plugin_check name)
  set_property(GLOBAL PROPERTY WM_CHECK_ARGS_${name} ${ARGN})
endfunction()

# a plugin folder's tests join one test executable (tests/CMakeLists.txt builds it)
function(wm_plugin_test)
  foreach(file ${ARGN})
    get_filename_component(path ${file} ABSOLUTE)
    set_property(GLOBAL APPEND PROPERTY WM_PLUGIN_TEST_SOURCES ${path})
  endforeach()
endfunction()
