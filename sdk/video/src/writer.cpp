// wm::video::write: RGB frames -> yuv420p (libswscale) -> H.264 / VP9 / MPEG-4 (libavcodec) ->
// mp4 / mkv / webm / avi (libavformat), through a temporary file renamed into place.
#include <ATen/ATen.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "ffmpeg.h"
#include "wm/error.h"
#include "wm/video/video.h"

namespace wm::video {

using namespace detail;

namespace {

// which encoder and container an extension means
struct Target {
  const char* extension;
  const char* muxer;
  const char* encoder;
};
constexpr Target kTargets[] = {{".mp4", "mp4", "libx264"},
                               {".mkv", "matroska", "libx264"},
                               {".webm", "webm", "libvpx-vp9"},
                               {".avi", "avi", "mpeg4"}};
constexpr const char* kPresets[] = {"ultrafast", "superfast", "veryfast", "faster", "fast",
                                    "medium",    "slow",      "slower",   "veryslow", "placebo"};

// uint8 [T, H, W, 3] from uint8 or float [0, 1] [T, 3, H, W]; odd sizes grow by repeating the
// last row / column, because yuv420p halves both
at::Tensor packed_even_frames(const at::Tensor& frames, const std::string& file) {
  if (frames.dim() != 4 || frames.size(1) != 3 || frames.size(0) < 1 || frames.size(2) < 1 ||
      frames.size(3) < 1)
    throw Error("cannot write " + file + ": frames must be [T, 3, H, W] with T >= 1, got " +
                c10::str(frames.sizes()));
  at::Tensor bytes = frames.detach().to(at::kCPU);
  if (bytes.is_floating_point())
    bytes = bytes.clamp(0, 1).mul(255).round().to(at::kByte);
  else if (bytes.scalar_type() != at::kByte)
    throw Error("cannot write " + file + ": frames must be uint8 or float in [0, 1]");
  if (bytes.size(2) % 2) bytes = at::cat({bytes, bytes.narrow(2, -1, 1)}, 2);
  if (bytes.size(3) % 2) bytes = at::cat({bytes, bytes.narrow(3, -1, 1)}, 3);
  return bytes.permute({0, 2, 3, 1}).contiguous();
}

// the encoder's quality and speed settings from crf and the x264 preset name
void set_quality(AVCodecContext* encoder, AVDictionary** options, const std::string& codec,
                 const WriteOptions& settings) {
  int preset = static_cast<int>(std::find(std::begin(kPresets), std::end(kPresets), settings.preset) -
                                std::begin(kPresets));
  if (preset == static_cast<int>(std::size(kPresets))) {
    std::string known;
    for (const char* name : kPresets) known += (known.empty() ? "" : ", ") + std::string(name);
    throw Error("unknown video preset '" + settings.preset + "' (have: " + known + ")");
  }
  if (settings.crf < 0 || settings.crf > 51)
    throw Error("video crf must be in [0, 51], got " + std::to_string(settings.crf));
  if (codec == "libx264") {
    av_dict_set(options, "preset", settings.preset.c_str(), 0);
    av_dict_set_int(options, "crf", settings.crf, 0);
  } else if (codec == "libvpx-vp9") {
    // constant quality; speed 8 (ultrafast) .. 0 (placebo), realtime for the fastest three
    av_dict_set_int(options, "crf", settings.crf * 63 / 51, 0);
    av_dict_set(options, "b", "0", 0);
    av_dict_set(options, "deadline", preset < 3 ? "realtime" : "good", 0);
    av_dict_set_int(options, "cpu-used", std::max(0, 8 - preset), 0);
    av_dict_set(options, "row-mt", "1", 0);
  } else {
    // MPEG-4 part 2 has a fixed quantiser 2..31 instead of crf
    encoder->flags |= AV_CODEC_FLAG_QSCALE;
    encoder->global_quality = FF_QP2LAMBDA * std::clamp(settings.crf / 5, 2, 31);
  }
}

// the open output; everything is released and the temporary removed unless committed
struct Output {
  std::string file, temporary;
  AVFormatContext* muxer = nullptr;
  CodecPtr encoder;
  SwsContext* scaler = nullptr;
  FramePtr frame{av_frame_alloc()};
  PacketPtr packet{av_packet_alloc()};
  bool committed = false;

  ~Output() {
    sws_freeContext(scaler);
    if (muxer) {
      if (muxer->pb) avio_closep(&muxer->pb);
      avformat_free_context(muxer);
    }
    if (!committed) std::remove(temporary.c_str());
  }
  [[noreturn]] void fail(const std::string& what, int code = 0) const {
    std::string detail = last_ffmpeg_error();
    throw Error("cannot write " + file + ": " + what + (code ? ": " + error_text(code) : "") +
                (detail.empty() ? "" : " (" + detail + ")"));
  }
  // encodes `input` (nullptr: flush) and writes every packet the encoder hands back
  void encode(const AVFrame* input) {
    int code = avcodec_send_frame(encoder.get(), input);
    if (code < 0) fail("encoding failed", code);
    while ((code = avcodec_receive_packet(encoder.get(), packet.get())) == 0) {
      av_packet_rescale_ts(packet.get(), encoder->time_base, muxer->streams[0]->time_base);
      packet->stream_index = 0;
      if ((code = av_interleaved_write_frame(muxer, packet.get())) < 0) fail("cannot write", code);
    }
    if (code != AVERROR(EAGAIN) && code != AVERROR_EOF) fail("encoding failed", code);
  }
};

}  // namespace

void write(const std::filesystem::path& file, const at::Tensor& frames, const WriteOptions& options) {
  // the container and encoder the extension names
  std::string extension = file.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  const Target* target = nullptr;
  for (const auto& candidate : kTargets)
    if (extension == candidate.extension) target = &candidate;
  if (!target)
    throw Error("cannot write " + file.string() + ": unknown video extension '" + extension +
                "' (have: .mp4, .mkv, .webm, .avi)");
  if (!(options.fps > 0))
    throw Error("cannot write " + file.string() + ": fps must be > 0, got " + std::to_string(options.fps));
  at::Tensor packed = packed_even_frames(frames, file.string());  // [T, H, W, 3]
  int64_t count = packed.size(0), height = packed.size(1), width = packed.size(2);

  route_ffmpeg_log();
  last_ffmpeg_error();
  Output out;
  out.file = file.string();
  out.temporary = file.string() + ".tmp-" + std::to_string(::getpid());
  const AVCodec* codec = avcodec_find_encoder_by_name(target->encoder);
  if (!codec)
    out.fail(std::string("this FFmpeg has no ") + target->encoder + " encoder (Debian: libavcodec-extra)");
  int code = avformat_alloc_output_context2(&out.muxer, nullptr, target->muxer, out.temporary.c_str());
  if (code < 0) out.fail(std::string("no ") + target->muxer + " muxer", code);

  // the encoder: yuv420p, BT.601 limited range (what swscale converts to), time in frames
  out.encoder.reset(avcodec_alloc_context3(codec));
  AVCodecContext* encoder = out.encoder.get();
  encoder->width = static_cast<int>(width);
  encoder->height = static_cast<int>(height);
  encoder->pix_fmt = AV_PIX_FMT_YUV420P;
  AVRational rate = av_d2q(options.fps, 65535);
  encoder->framerate = rate;
  encoder->time_base = av_inv_q(rate);
  encoder->colorspace = AVCOL_SPC_SMPTE170M;
  encoder->color_primaries = AVCOL_PRI_SMPTE170M;
  encoder->color_trc = AVCOL_TRC_SMPTE170M;
  encoder->color_range = AVCOL_RANGE_MPEG;
  encoder->thread_count = 0;
  if (out.muxer->oformat->flags & AVFMT_GLOBALHEADER) encoder->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  AVDictionary* settings = nullptr;
  set_quality(encoder, &settings, target->encoder, options);
  code = avcodec_open2(encoder, codec, &settings);
  av_dict_free(&settings);
  if (code < 0) out.fail(std::string("cannot open the ") + target->encoder + " encoder", code);

  AVStream* stream = avformat_new_stream(out.muxer, nullptr);
  if (!stream) out.fail("out of memory");
  stream->time_base = encoder->time_base;
  stream->avg_frame_rate = rate;
  if ((code = avcodec_parameters_from_context(stream->codecpar, encoder)) < 0)
    out.fail("bad encoder parameters", code);
  if ((code = avio_open(&out.muxer->pb, out.temporary.c_str(), AVIO_FLAG_WRITE)) < 0)
    out.fail("cannot create " + out.temporary, code);
  if ((code = avformat_write_header(out.muxer, nullptr)) < 0) out.fail("cannot write the header", code);

  // frames: packed RGB -> yuv420p -> encoder
  out.scaler = sws_getContext(width, height, AV_PIX_FMT_RGB24, width, height, AV_PIX_FMT_YUV420P,
                              SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, nullptr, nullptr, nullptr);
  AVFrame* frame = out.frame.get();
  frame->format = AV_PIX_FMT_YUV420P;
  frame->width = encoder->width;
  frame->height = encoder->height;
  if (!out.scaler || av_frame_get_buffer(frame, 0) < 0) out.fail("out of memory");
  for (int64_t t = 0; t < count; ++t) {
    if ((code = av_frame_make_writable(frame)) < 0) out.fail("out of memory", code);
    const uint8_t* rgb[1] = {packed[t].data_ptr<uint8_t>()};
    int rgb_linesize[1] = {static_cast<int>(3 * width)};
    sws_scale(out.scaler, rgb, rgb_linesize, 0, static_cast<int>(height), frame->data, frame->linesize);
    frame->pts = t;
    out.encode(frame);
  }
  out.encode(nullptr);
  if ((code = av_write_trailer(out.muxer)) < 0) out.fail("cannot finish the file", code);
  if ((code = avio_closep(&out.muxer->pb)) < 0) out.fail("cannot close " + out.temporary, code);

  // on disk, then in place
  int fd = ::open(out.temporary.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) out.fail("cannot flush " + out.temporary);
  ::close(fd);
  if (std::rename(out.temporary.c_str(), out.file.c_str()) != 0) out.fail("cannot rename into place");
  out.committed = true;
}

void write_side_by_side(const std::filesystem::path& file, const at::Tensor& prediction,
                        const at::Tensor& truth, const WriteOptions& options) {
  auto as_bytes = [&](const at::Tensor& frames, const char* which) {
    if (frames.dim() != 4 || frames.size(1) != 3)
      throw Error("cannot write " + file.string() + ": " + which + " must be [T, 3, H, W]");
    at::Tensor cpu = frames.detach().to(at::kCPU);
    return cpu.is_floating_point() ? cpu.clamp(0, 1).mul(255).round().to(at::kByte) : cpu.to(at::kByte);
  };
  at::Tensor left = as_bytes(prediction, "prediction"), right = as_bytes(truth, "truth");
  if (!left.sizes().equals(right.sizes()))
    throw Error("cannot write " + file.string() + ": prediction " + c10::str(left.sizes()) +
                " and truth " + c10::str(right.sizes()) + " differ in shape");
  auto bar = at::full({left.size(0), 3, left.size(2), 2}, 128, at::kByte);
  write(file, at::cat({left, bar, right}, 3), options);
}

}  // namespace wm::video
