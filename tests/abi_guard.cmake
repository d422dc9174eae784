# Fails when the public SDK headers change without WM_SDK_ABI_VERSION and sdk/abi.sha256 changing
# with them. After a deliberate change: bump WM_SDK_ABI_VERSION in wm/abi.h if layouts, vtables
# or signatures changed, then refresh the hash:
#   cmake -DUPDATE=ON -DHEADER_DIR=sdk/include/wm -DHASH_FILE=sdk/abi.sha256 -P tests/abi_guard.cmake
get_filename_component(HEADER_DIR ${HEADER_DIR} ABSOLUTE)
get_filename_component(HASH_FILE ${HASH_FILE} ABSOLUTE)
file(GLOB_RECURSE headers RELATIVE ${HEADER_DIR} ${HEADER_DIR}/*.h)
list(SORT headers)
set(all "")
foreach(name ${headers})
  file(READ ${HEADER_DIR}/${name} text)
  string(APPEND all "${name}\n${text}")
endforeach()
string(SHA256 hash "${all}")
if(UPDATE)
  file(WRITE ${HASH_FILE} "${hash}\n")
  message(STATUS "wrote ${hash} to ${HASH_FILE}")
  return()
endif()
file(READ ${HASH_FILE} expected)
string(STRIP "${expected}" expected)
if(NOT hash STREQUAL expected)
  message(FATAL_ERROR "sdk/include/wm changed (hash ${hash}, sdk/abi.sha256 has ${expected}). "
    "If a layout, vtable or signature changed, bump WM_SDK_ABI_VERSION in wm/abi.h; "
    "then refresh the hash: cmake -DUPDATE=ON -DHEADER_DIR=sdk/include/wm "
    "-DHASH_FILE=sdk/abi.sha256 -P tests/abi_guard.cmake")
endif()
message(STATUS "SDK headers match sdk/abi.sha256 (ABI guard ok)")
