# wm_add_toolbox(<name> VERSION <n> SOURCES <files...> [PUBLIC <targets...>] [PRIVATE <targets...>])
#
# One toolbox library: libwmsdk_<name>.so.<n> from the calling folder's src/ and include/wm/<name>/,
# target wmsdk::<name>, installed and exported with the SDK. VERSION is its SOVERSION: bump it
# when a layout, vtable or signature in include/wm/<name> changes. The linker records it in every
# plugin that links the toolbox (DT_NEEDED libwmsdk_<name>.so.<n>), and wmhost checks it before
# loading the plugin. Changing a toolbox never changes the plugin ABI number.
include_guard(GLOBAL)

function(wm_add_toolbox name)
  cmake_parse_arguments(TOOLBOX "" "VERSION" "SOURCES;PUBLIC;PRIVATE" ${ARGN})
  set(target wmsdk_${name})
  add_library(${target} SHARED ${TOOLBOX_SOURCES})
  add_library(wmsdk::${name} ALIAS ${target})
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${target} PUBLIC wmsdk ${TOOLBOX_PUBLIC} PRIVATE ${TOOLBOX_PRIVATE})
  set_target_properties(${target} PROPERTIES VERSION ${TOOLBOX_VERSION}.${PROJECT_VERSION}
    SOVERSION ${TOOLBOX_VERSION} EXPORT_NAME ${name})
  if(TARGET wm_toolbox_pch)
    target_precompile_headers(${target} REUSE_FROM wm_toolbox_pch)
  endif()
  set_property(GLOBAL APPEND PROPERTY WM_TOOLBOXES "${name}=${TOOLBOX_VERSION}")
  install(TARGETS ${target} EXPORT wmsdkTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY include/wm DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endfunction()
