// What the reader and the writer share inside libwmsdk_video: FFmpeg's headers, owning pointers
// for its objects, its error text and the swscale algorithm names.
#pragma once
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>

namespace wm::video::detail {

//---- owning pointers ----

struct FreeFormat {
  void operator()(AVFormatContext* context) const { avformat_close_input(&context); }
};
struct FreeCodec {
  void operator()(AVCodecContext* context) const { avcodec_free_context(&context); }
};
struct FreeFrame {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct FreePacket {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct FreeScaler {
  void operator()(SwsContext* context) const { sws_freeContext(context); }
};
using FramePtr = std::unique_ptr<AVFrame, FreeFrame>;
using PacketPtr = std::unique_ptr<AVPacket, FreePacket>;
using CodecPtr = std::unique_ptr<AVCodecContext, FreeCodec>;

//---- messages ----

// FFmpeg's text for an error code: "Invalid data found when processing input"
inline std::string error_text(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

// sends FFmpeg's log to wm::log() at debug level (once per process) and keeps each thread's
// last error line for the exception that follows it
void route_ffmpeg_log();
// this thread's last FFmpeg error line since the previous call, then forgets it
std::string last_ffmpeg_error();

// packed RGB24 rows (linesize bytes apart) -> planes R, G, B of uint8 [3, height, width]
void rgb24_to_planes(const uint8_t* rgb, int64_t linesize, int64_t width, int64_t height,
                     uint8_t* planes);

// SWS_BILINEAR etc. for a scaler name; throws wm::Error listing the names for an unknown one
int scaler_flags(const std::string& name);

}  // namespace wm::video::detail
