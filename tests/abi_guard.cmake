# Fails when the public SDK headers change without WM_SDK_ABI_VERSION and sdk/abi.sha256 changing
# with them. After a deliberate change: bump WM_SDK_ABI_VERSION in wm/abi.h if layouts, vtables
# or signatures changed, then write the printed hash to sdk/abi.sha256.
file(GLOB headers ${HEADER_DIR}/*.h)
list(SORT headers)
set(all "")
foreach(header ${headers})
  file(READ ${header} text)
  get_filename_component(name ${header} NAME)
  string(APPEND all "${name}\n${text}")
endforeach()
string(SHA256 hash "${all}")
file(READ ${HASH_FILE} expected)
string(STRIP "${expected}" expected)
if(NOT hash STREQUAL expected)
  message(FATAL_ERROR "sdk/include/wm changed (hash ${hash}, sdk/abi.sha256 has ${expected}). "
    "If a layout, vtable or signature changed, bump WM_SDK_ABI_VERSION in wm/abi.h; "
    "then put the new hash in sdk/abi.sha256.")
endif()
message(STATUS "SDK headers match sdk/abi.sha256 (ABI guard ok)")
