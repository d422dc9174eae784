// FFmpeg's log routed into wmhost's, and the swscale algorithm names.
#include "ffmpeg.h"

#include <cstdarg>
#include <mutex>

#include "wm/error.h"
#include "wm/log.h"

namespace wm::video::detail {

namespace {

thread_local std::string last_error;

// FFmpeg prints straight to stderr by default: a data loader meeting corrupt files would flood
// the console with lines the DataError repeats. They go to the run log at debug level instead.
void log_line(void* object, int level, const char* format, va_list arguments) {
  if (level > av_log_get_level()) return;
  char line[1024];
  int print_prefix = 1;
  av_log_format_line2(object, level, format, arguments, line, sizeof line, &print_prefix);
  std::string text = line;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  if (text.empty()) return;
  if (level <= AV_LOG_ERROR) {
    // without the "[mov,mp4,... @ 0x55..] " prefix
    size_t prefix = text.find("] ");
    last_error = text[0] == '[' && prefix != std::string::npos ? text.substr(prefix + 2) : text;
  }
  log().debug("ffmpeg: {}", text);
}

}  // namespace

void route_ffmpeg_log() {
  static std::once_flag once;
  std::call_once(once, [] {
    av_log_set_level(AV_LOG_WARNING);
    av_log_set_callback(&log_line);
  });
}

std::string last_ffmpeg_error() {
  std::string text;
  text.swap(last_error);
  return text;
}

int scaler_flags(const std::string& name) {
  static const std::pair<const char*, int> kScalers[] = {
      {"fast_bilinear", SWS_FAST_BILINEAR}, {"bilinear", SWS_BILINEAR}, {"bicubic", SWS_BICUBIC},
      {"area", SWS_AREA}, {"neighbor", SWS_POINT}, {"lanczos", SWS_LANCZOS}};
  std::string known;
  for (const auto& [scaler, flags] : kScalers) {
    if (name == scaler) return flags;
    known += (known.empty() ? "" : ", ") + std::string(scaler);
  }
  throw Error("unknown video scaler '" + name + "' (have: " + known + ")");
}

}  // namespace wm::video::detail
