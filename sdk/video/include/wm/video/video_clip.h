// The clip parameters every video dataset plugin declares, and reading a clip out of a time
// segment of a video. Header-only over wm/video/video.h: include it only from targets that link
// wmsdk::video.
#pragma once
#include <ATen/core/Tensor.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "wm/params.h"
#include "wm/schema.h"
#include "wm/video/video.h"

namespace wm::video {

//---- parameters ----

// frames, stride, fps, height, width, threads
inline Schema& add_clip_params(Schema& schema) {
  return schema.integer("frames", 16, "frames per clip").range(1, 4096)
      .integer("stride", 1, "keep every stride-th frame (when fps is 0)").at_least(1)
      .real("fps", 0.0, "resample clips to this frame rate (0: the video's own, with stride)")
      .at_least(0)
      .integer("height", 0, "frame height in pixels (0: native, or keep the aspect ratio)")
      .at_least(0)
      .integer("width", 0, "frame width in pixels (0: native, or keep the aspect ratio)")
      .at_least(0)
      .integer("threads", 1, "decoder threads per clip (loader workers already decode in parallel)")
      .range(0, 64);
}

inline ClipRequest clip_request(const Params& params) {
  ClipRequest request;
  request.frames = params.get<int64_t>("frames");
  request.stride = params.get<int64_t>("stride");
  request.fps = params.get<double>("fps");
  request.height = params.get<int64_t>("height");
  request.width = params.get<int64_t>("width");
  return request;
}

//---- clips in segments ----

// seconds a clip spans on a video of `native_fps`
inline double clip_seconds(const ClipRequest& request, double native_fps) {
  if (request.fps > 0) return static_cast<double>(request.frames) / request.fps;
  return native_fps > 0 ? static_cast<double>(request.frames * request.stride) / native_fps : 0.0;
}

// a clip centred in the segment [start, end) seconds; a segment shorter than the clip starts the
// clip at the segment's start (frames past the video's end repeat the last one). end <= start
// means "to the end of the video".
inline at::Tensor read_segment(Reader& reader, ClipRequest request, double start, double end) {
  const Info& info = reader.info();
  if (end <= start) end = info.duration;
  double slack = (end - start) - clip_seconds(request, info.fps);
  request.start = std::max(0.0, start + std::max(0.0, slack / 2));
  return reader.read_clip(request);
}

//---- finding videos ----

// every video file under `folder` (recursively) by its name without extension: "abc123" ->
// folder/Task/abc123.mp4. Extensions without dots, first listed wins when a name has several.
inline std::map<std::string, std::filesystem::path> index_videos(
    const std::filesystem::path& folder,
    const std::vector<std::string>& extensions = {"mp4", "webm", "mkv", "avi", "mov"}) {
  std::map<std::string, std::pair<size_t, std::filesystem::path>> best;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           folder, std::filesystem::directory_options::follow_directory_symlink)) {
    if (!entry.is_regular_file()) continue;
    std::string extension = entry.path().extension().string();
    if (extension.empty()) continue;
    auto rank = std::find(extensions.begin(), extensions.end(), extension.substr(1));
    if (rank == extensions.end()) continue;
    size_t order = static_cast<size_t>(rank - extensions.begin());
    std::string stem = entry.path().stem().string();
    auto it = best.find(stem);
    if (it == best.end() || order < it->second.first) best[stem] = {order, entry.path()};
  }
  std::map<std::string, std::filesystem::path> videos;
  for (auto& [stem, found] : best) videos.emplace(stem, found.second);
  return videos;
}

}  // namespace wm::video
