# FFmpeg for libwmsdk_video (wm/video.h): libavformat, libavcodec, libswscale and libavutil from
# pkg-config as one imported target, PkgConfig::WM_FFMPEG. WM_FFMPEG_FOUND says if all were found.
include_guard(GLOBAL)
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(WM_FFMPEG QUIET IMPORTED_TARGET GLOBAL
    libavformat libavcodec libswscale libavutil)
endif()
