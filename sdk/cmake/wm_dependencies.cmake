# The SDK's required dependencies, shared by the source tree and the installed package.
# LibTorch 1.13 and 2.x, spdlog, Boost headers (Boost.DLL). Plugins inherit them from wmsdk.
include_guard(GLOBAL)
# GPU machines carry LibTorch inside pip's PyTorch: when neither Torch_DIR nor CMAKE_PREFIX_PATH
# leads to it, ask the Python on PATH where its torch keeps its CMake files
find_package(Torch QUIET)
if(NOT Torch_FOUND)
  find_program(_wm_python NAMES python3 python)
  if(_wm_python)
    execute_process(COMMAND ${_wm_python} -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
                    OUTPUT_VARIABLE _wm_torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  endif()
  if(_wm_torch_prefix)
    message(STATUS "wmhost: LibTorch from ${_wm_python}'s torch (${_wm_torch_prefix})")
    list(APPEND CMAKE_PREFIX_PATH "${_wm_torch_prefix}")
  endif()
endif()
find_package(Torch REQUIRED)
# pip's TorchConfig finds its own libc10.so and libtorch.so with find_library(PATHS <torch>/lib),
# which searches the system folders first: beside Debian's LibTorch 1.13 a 2.x build would link
# Debian's libc10.so too. Pin each to the LibTorch whose TorchConfig was found, and find again so
# TORCH_LIBRARIES is rebuilt from the pinned paths.
set(_wm_torch_repinned FALSE)
foreach(_wm_var c10_LIBRARY TORCH_LIBRARY C10_CUDA_LIBRARY)
  if(${_wm_var})
    get_filename_component(_wm_name "${${_wm_var}}" NAME)
    set(_wm_own "${TORCH_INSTALL_PREFIX}/lib/${_wm_name}")
    if(EXISTS "${_wm_own}" AND NOT "${${_wm_var}}" STREQUAL "${_wm_own}")
      message(STATUS "wmhost: ${_wm_var} ${${_wm_var}} is not this LibTorch's; using ${_wm_own}")
      set(${_wm_var} "${_wm_own}" CACHE FILEPATH "" FORCE)
      set(_wm_torch_repinned TRUE)
    endif()
  endif()
endforeach()
if(_wm_torch_repinned)
  find_package(Torch REQUIRED)
endif()
# pip's CUDA LibTorch loads NCCL, cuDNN and the CUDA libraries from its nvidia/* wheels through its
# RPATH; linking an executable, ld would check it against the CUDA toolkit's older copies in the
# -rpath folders (undefined reference to `ncclCommResume'): the wheels' folders go first
file(GLOB _wm_torch_wheel_libs LIST_DIRECTORIES true "${TORCH_INSTALL_PREFIX}/../nvidia/*/lib")
if(_wm_torch_wheel_libs)
  list(JOIN _wm_torch_wheel_libs ":" _wm_rpath_link)
  add_link_options("LINKER:-rpath-link,${_wm_rpath_link}")
endif()
find_package(spdlog REQUIRED)
# LibTorch 2.x ships fmt 12 headers in its include folder, which comes before /usr/include, so
# spdlog (built against the system's fmt) would compile against fmt 12 and link the system's
# libfmt: a folder holding only the system's fmt/ goes first
if(EXISTS "${TORCH_INSTALL_PREFIX}/include/fmt" AND TARGET fmt::fmt)
  get_target_property(_wm_fmt_include fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
  list(GET _wm_fmt_include 0 _wm_fmt_include)
  get_filename_component(_wm_fmt_torch "${TORCH_INSTALL_PREFIX}/include/fmt" REALPATH)
  get_filename_component(_wm_fmt_system "${_wm_fmt_include}/fmt" REALPATH)
  if(EXISTS "${_wm_fmt_system}/core.h" AND NOT _wm_fmt_torch STREQUAL _wm_fmt_system)
    set(_wm_fmt_first "${CMAKE_BINARY_DIR}/wm_fmt_first")
    file(MAKE_DIRECTORY "${_wm_fmt_first}")
    file(CREATE_LINK "${_wm_fmt_include}/fmt" "${_wm_fmt_first}/fmt" SYMBOLIC)
    include_directories(BEFORE SYSTEM "${_wm_fmt_first}")
    message(STATUS "wmhost: fmt headers from ${_wm_fmt_include} before LibTorch's own")
  endif()
endif()
find_package(Boost 1.74 REQUIRED)
if(NOT TARGET Boost::headers AND TARGET Boost::boost)
  add_library(Boost::headers ALIAS Boost::boost)
endif()
# Debian's TorchConfig adds flags like -D_GLIBCXX_USE_CXX11_ABI through TORCH_CXX_FLAGS
if(TORCH_CXX_FLAGS)
  separate_arguments(_wm_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
  add_compile_options(${_wm_torch_flags})
endif()
