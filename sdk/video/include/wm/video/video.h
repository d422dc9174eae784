// Video files in and out (libwmsdk_video, CMake target wmsdk::video; built when FFmpeg is found).
// Decodes mp4 / webm / mkv / avi (any container and codec FFmpeg reads) to uint8 RGB tensors,
// seeking to a start time and resizing with swscale while decoding; encodes RGB frames to
// H.264 / VP9 / MPEG-4. Frames equal the `ffmpeg` tool's output for the same scaler flags.
// Every file that cannot be read throws wm::DataError(file, reason); FFmpeg's headers stay inside.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace wm::video {

//---- reading ----

// What the container and the stream say about a video.
struct Info {
  int64_t width = 0, height = 0;
  double fps = 0;          // the stream's average frame rate
  double duration = 0;     // seconds
  int64_t frame_count = 0; // exact when the container says (mp4, avi), else duration * fps
  std::string codec;       // FFmpeg's codec name: "h264", "vp9", "mpeg4", ...
};

// Which frames a clip holds and at what size.
struct ClipRequest {
  int64_t frames = 16;  // frames to return
  int64_t stride = 1;   // keep every stride-th decoded frame (used when fps == 0)
  double fps = 0;       // > 0: resample to this rate, the frame nearest each time (ties: earlier)
  double start = 0;     // seconds from the stream's start; the reader seeks to the keyframe before
  int64_t width = 0, height = 0;    // 0 keeps the native size (both 0) or the aspect ratio (one 0)
  std::string scaler = "bilinear";  // fast_bilinear|bilinear|bicubic|area|neighbor|lanczos
  bool pad = true;  // a clip running past the end repeats the last frame; false: DataError
};

// One open video file or in-memory file (a tar member). Not thread-safe; one per worker.
class Reader {
 public:
  // threads: decoder threads, 0 = FFmpeg's choice (frame threading), 1 = decode on the caller
  explicit Reader(const std::filesystem::path& file, int threads = 0);
  // `bytes` is the whole file; `name` is used in errors and as a hint of the container format
  static Reader from_bytes(std::string bytes, const std::string& name, int threads = 0);
  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;
  ~Reader();

  const Info& info() const;
  const std::string& name() const;  // the file (or the `name` given to from_bytes)

  // uint8 [T, 3, H, W] RGB
  at::Tensor read_clip(const ClipRequest& request);
  // every frame: uint8 [N, 3, H, W] RGB
  at::Tensor read_all(int64_t width = 0, int64_t height = 0,
                      const std::string& scaler = "bilinear");

  // the presentation times (seconds from the stream's start) of the frames the last
  // read_clip/read_all returned; padded frames repeat the last time
  const std::vector<double>& last_times() const;

  struct Impl;

 private:
  explicit Reader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

//---- writing ----

struct WriteOptions {
  double fps = 12;
  int crf = 23;                  // quality: 0 best .. 51 worst (x264 and VP9 scale; MPEG-4 maps it)
  std::string preset = "medium"; // x264 preset names; VP9 maps them to its speed settings
};

// frames: uint8 [T, 3, H, W] RGB (float in [0, 1] is accepted too). The codec follows the
// extension: .mp4 / .mkv -> H.264 (libx264), .webm -> VP9 (libvpx-vp9), .avi -> MPEG-4; all
// yuv420p, so an odd width or height is padded by repeating the last column / row. Written to a
// temporary next to `file` and renamed, so the file appears whole or not at all.
void write(const std::filesystem::path& file, const at::Tensor& frames,
           const WriteOptions& options = {});

// prediction | truth side by side (prediction left, truth right, a 2-pixel grey bar between);
// both float [0, 1] or uint8 [T, 3, H, W] of the same shape
void write_side_by_side(const std::filesystem::path& file, const at::Tensor& prediction,
                        const at::Tensor& truth, const WriteOptions& options = {});

}  // namespace wm::video
