# The SDK's required dependencies, shared by the source tree and the installed package.
# LibTorch 1.13 and 2.x, spdlog, Boost headers (Boost.DLL). Plugins inherit them from wmsdk.
include_guard(GLOBAL)
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
