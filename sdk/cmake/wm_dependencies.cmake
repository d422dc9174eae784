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
find_package(spdlog REQUIRED)
find_package(Boost 1.74 REQUIRED)
if(NOT TARGET Boost::headers AND TARGET Boost::boost)
  add_library(Boost::headers ALIAS Boost::boost)
endif()
# Debian's TorchConfig adds flags like -D_GLIBCXX_USE_CXX11_ABI through TORCH_CXX_FLAGS
if(TORCH_CXX_FLAGS)
  separate_arguments(_wm_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
  add_compile_options(${_wm_torch_flags})
endif()
