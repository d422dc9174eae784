// webdataset: tar shards of <key>.mp4 + <key>.jsonl (one JSON record per frame), the layout of
// VPT recordings and of environment collection. Shards are read in place: members are found
// from the tar headers and read by offset, never unpacked to disk. Record conventions (which
// record an action row comes from, dotted fields, *_diff, action arrays): wm/frame_records.h.
// With video_ext: none, samples come from the .jsonl records alone; that part builds without
// FFmpeg (WM_WEBDATASET_VIDEO unset: records only).
#include <torch/torch.h>

#include "wm/io/frame_records.h"
#include "wm/sdk.h"
#include "wm/io/webdataset.h"
#ifdef WM_WEBDATASET_VIDEO
#include "wm/video/video_clip.h"
#endif

namespace {

struct Clip {
  size_t sample = 0;       // into samples_
  int64_t first_frame = 0;
};

class WebDataset : public wm::Dataset {
 public:
  static wm::Schema schema() {
    wm::Schema schema;
    schema.path("shards", "tar shards: a glob (shards/*.tar) or a brace range "
                          "(shard-{000000..000499}.tar)").required()
        .text("action_fields", "mouse.dx, mouse.dy, yaw_diff, pitch_diff",
              "comma-separated record fields giving `actions` [T-1, A] (\"action\" for "
              "environment shards; empty: no actions)")
        .text("button_fields", "", "record fields holding lists of held buttons/keys, e.g. "
                                   "\"mouse.buttons, keyboard.keys\"")
        .text("buttons", "", "the names that make up the multi-hot `buttons` [T-1, K] key")
        .text("signals", "", "any of state, reward, success: per-frame record fields passed on")
        .choice("clips", "first", {"first", "all"},
                "first: one clip per sample from its first frame (reads tar headers only); all: "
                "every whole clip of each sample (reads each .jsonl once to count frames)")
        .integer("clip_step", 0, "with clips: all, frames from one clip's start to the next; 0: "
                                 "one clip's span (clips do not overlap); 1 with frames: 2: every "
                                 "transition").at_least(0)
        .text("records_ext", "jsonl", "member extension of the frame records");
#ifdef WM_WEBDATASET_VIDEO
    schema.text("video_ext", "mp4", "member extension of the video; none: samples from the "
                                    "frame records alone (state-only episodes)");
    return wm::video::add_clip_params(schema);
#else
    schema.text("video_ext", "none", "none: samples from the frame records alone (this build has "
                                     "no FFmpeg, so no video)");
    return schema.integer("frames", 16, "frames per clip").range(1, 4096)
        .integer("stride", 1, "keep every stride-th frame").at_least(1);
#endif
  }

  explicit WebDataset(const wm::Params& params)
      : fields_(wm::io::split_list(params.get<std::string>("action_fields"))),
        button_fields_(wm::io::split_list(params.get<std::string>("button_fields"))),
        buttons_(wm::io::split_list(params.get<std::string>("buttons"))),
        signals_(wm::io::split_list(params.get<std::string>("signals"))),
        video_ext_(params.get<std::string>("video_ext")),
        records_ext_(params.get<std::string>("records_ext")) {
    records_only_ = video_ext_ == "none";
#ifdef WM_WEBDATASET_VIDEO
    request_ = wm::video::clip_request(params);
    threads_ = params.get<int>("threads");
    if (request_.fps > 0)
      throw params.error("fps", "webdataset clips follow the frame records; use stride instead");
    request_.pad = false;  // frames and records must line up: a short video is an error
#else
    if (!records_only_)
      throw params.error("video_ext", "this webdataset was built without FFmpeg and reads no "
                                      "video; use video_ext: none (samples from the records alone)");
#endif
    if (records_only_ && fields_.empty() && signals_.empty())
      throw params.error("signals", "video_ext: none leaves only the records: name some signals "
                                    "(state, reward, success) or action_fields");
    if (button_fields_.empty() != buttons_.empty())
      throw params.error(buttons_.empty() ? "buttons" : "button_fields",
                         "button_fields and buttons go together: the fields to read and the "
                         "names of the multi-hot columns");
    for (const auto& signal : signals_)
      if (signal != "state" && signal != "reward" && signal != "success")
        throw params.error("signals", "unknown signal '" + signal + "' (state, reward, success)");
    frames_ = params.get<int64_t>("frames");
    stride_ = params.get<int64_t>("stride");
    span_ = (frames_ - 1) * stride_ + 1;
    clip_step_ = params.get<int64_t>("clip_step");
    if (clip_step_ > 0 && params.get<std::string>("clips") != "all")
      throw params.error("clip_step", "clip_step spaces the clips of clips: all; with clips: first "
                                      "each sample gives one clip");
    if (clip_step_ == 0) clip_step_ = span_;

    std::vector<std::filesystem::path> shards;
    try {
      shards = wm::io::expand_shard_pattern(params.get<std::string>("shards"));
    } catch (const wm::Error& e) {
      throw params.error("shards", e.what());
    }
    index(shards, params.get<std::string>("clips") == "all");
    describe_actions();
  }

  int64_t size() const override { return static_cast<int64_t>(clips_.size()); }
  std::string id(int64_t index) const override {
    const Clip& clip = clips_.at(static_cast<size_t>(index));
    const wm::io::ShardSample& sample = samples_[clip.sample];
    std::string id = sample.shard.filename().string() + "/" + sample.key;
    return clip.first_frame > 0 ? id + "@" + std::to_string(clip.first_frame) : id;
  }
  // the episode (`<shard>/<key>`): with `clips: all` its clips stay in one split
  std::string group(int64_t index) const override {
    const wm::io::ShardSample& sample = samples_[clips_.at(static_cast<size_t>(index)).sample];
    return sample.shard.filename().string() + "/" + sample.key;
  }

  std::vector<wm::KeySpec> keys() const override {
    std::vector<wm::KeySpec> keys;
    if (!records_only_) keys.push_back({"video", "uint8", "[T, 3, H, W]", "RGB frames"});
    if (!fields_.empty())
      keys.push_back({"actions", "float32", "[T-1, " + std::to_string(action_names_.size()) + "]",
                      wm::join(action_names_) + (stride_ > 1 ? " (summed over each stride)" : "")});
    if (!buttons_.empty())
      keys.push_back({"buttons", "float32", "[T-1, " + std::to_string(buttons_.size()) + "]",
                      "held: " + wm::join(buttons_)});
    for (const auto& signal : signals_) {
      if (signal == "state") keys.push_back({"state", "float32", "[T, S]", "record field 'state'"});
      if (signal == "reward") keys.push_back({"reward", "float32", "[T]", "record field 'reward'"});
      if (signal == "success") keys.push_back({"success", "bool", "[T]", "record field 'success'"});
    }
    return keys;
  }

  wm::Sample get(int64_t index) const override {
    WM_CHECK(index >= 0 && index < size()) << "index " << index << " of " << size();
    const Clip& clip = clips_[static_cast<size_t>(index)];
    const wm::io::ShardSample& sample = samples_[clip.sample];
    std::string source = sample.shard.string() + ":" + sample.key;
    wm::io::TarReader shard(sample.shard);
    // only the clip's own records are parsed: a recording may hold thousands of frames
    std::string text = shard.read(*sample.find(records_ext_));
    auto lines = record_lines(text);
    size_t first = static_cast<size_t>(clip.first_frame);
    if (first + static_cast<size_t>(span_) > lines.size())
      throw wm::DataError(source, std::to_string(lines.size()) +
                                      " frame records, a clip from frame " + std::to_string(first) +
                                      " needs " + std::to_string(first + span_));
    std::vector<wm::io::json::Value> records;
    std::string records_source = source + "." + records_ext_ + " from frame " + std::to_string(first);
    for (size_t t = first; t < first + static_cast<size_t>(span_); ++t)
      records.push_back(wm::io::json::parse(lines[t], records_source));

    wm::Sample out;
#ifdef WM_WEBDATASET_VIDEO
    // video: frames first, first + stride, ... decoded from the member's bytes in memory
    if (!records_only_) {
      auto video = wm::video::Reader::from_bytes(shard.read(*sample.find(video_ext_)),
                                                 source + "." + video_ext_, threads_);
      wm::video::ClipRequest request = request_;
      double fps = video.info().fps > 0 ? video.info().fps : 1.0;
      request.start = std::max(0.0, (static_cast<double>(first) - 0.25) / fps);  // frame `first`
      out.tensors["video"] = video.read_clip(request);
    }
#endif

    // actions and buttons between sampled frames: the per-frame rows of each stride, summed in
    // float64 (movements and angle changes add up; fit_action_scaler's stride uses the same sums)
    // or or-ed (a button held in any frame)
    int64_t steps = frames_ - 1;
    if (!fields_.empty()) {
      auto rows = wm::io::ActionFields(fields_).stride_sums(records, 0, static_cast<size_t>(steps),
                                                            static_cast<size_t>(stride_), records_source);
      out.tensors["actions"] = rows;
      if (rows.size(1) != static_cast<int64_t>(action_names_.size()))
        throw wm::DataError(source, std::to_string(rows.size(1)) +
                                        " action values per frame, other samples have " +
                                        std::to_string(action_names_.size()));
    }
    if (!buttons_.empty()) {
      auto held = wm::io::multi_hot(records, 0, records.size(), button_fields_, buttons_, records_source);
      out.tensors["buttons"] = std::get<0>(held.view({steps, stride_, held.size(1)}).max(1));
    }
    auto sampled = torch::arange(0, span_, stride_, torch::kInt64);
    for (const auto& signal : signals_) {
      auto values = signal == "state"
                        ? wm::io::frame_vectors(records, 0, records.size(), signal, records_source)
                        : wm::io::frame_scalars(records, 0, records.size(), signal, records_source);
      values = values.index_select(0, sampled);
      out.tensors[signal] = signal == "success" ? values.gt(0.5) : values;
    }
    out.id = id(index);
    out.source = source;
    return out;
  }

 private:
  // the non-empty lines of a .jsonl member, one per frame, unparsed
  static std::vector<std::string_view> record_lines(const std::string& text) {
    std::vector<std::string_view> lines;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string_view line(text.data() + start, end - start);
      if (line.find_first_not_of(" \t\r") != std::string_view::npos) lines.push_back(line);
      start = end + 1;
    }
    return lines;
  }

  // samples with both members, from the tar headers; a corrupt shard is skipped with a warning
  void index(const std::vector<std::filesystem::path>& shards, bool every_clip) {
    int64_t incomplete = 0, short_samples = 0, unreadable_shards = 0;
    for (const auto& path : shards) {
      std::vector<wm::io::ShardSample> found;
      try {
        found = wm::io::index_shard(path);
      } catch (const wm::DataError& e) {
        wm::log().warn("webdataset: {}; skipping the shard", e.what());
        ++unreadable_shards;
        continue;
      }
      for (auto& sample : found) {
        if ((!records_only_ && !sample.find(video_ext_)) || !sample.find(records_ext_)) {
          ++incomplete;
          continue;
        }
        samples_.push_back(std::move(sample));
        size_t at = samples_.size() - 1;
        if (!every_clip) {
          clips_.push_back({at, 0});
          continue;
        }
        // every whole clip: the records tell how many frames the sample has
        wm::io::TarReader shard(path);
        int64_t frames = static_cast<int64_t>(
            record_lines(shard.read(*samples_[at].find(records_ext_))).size());
        if (frames < span_) ++short_samples;
        for (int64_t start : wm::io::clip_starts_every(frames, span_, clip_step_))
          clips_.push_back({at, start});
      }
    }
    if (unreadable_shards > 0)
      wm::log().warn("webdataset: {} of {} shard(s) skipped as unreadable (see above)",
                     unreadable_shards, shards.size());
    if (incomplete > 0)
      wm::log().warn("webdataset: {} sample(s) lack a {} member; left out", incomplete,
                     records_only_ ? "." + records_ext_ : "." + video_ext_ + " or ." + records_ext_);
    if (short_samples > 0)
      wm::log().warn("webdataset: {} sample(s) are shorter than one clip of {} frames; left out",
                     short_samples, span_);
    if (clips_.empty())
      throw wm::Error("webdataset: no samples with " +
                      (records_only_ ? std::string() : "<key>." + video_ext_ + " and ") + "<key>." +
                      records_ext_ + " members in " + std::to_string(shards.size()) + " shard(s)");
  }

  // the action columns, from the first sample's first record
  void describe_actions() {
    if (fields_.empty()) return;
    const wm::io::ShardSample& sample = samples_.front();
    wm::io::TarReader shard(sample.shard);
    std::string source = sample.shard.string() + ":" + sample.key + "." + records_ext_;
    std::string text = shard.read(*sample.find(records_ext_));
    auto lines = record_lines(text);
    if (lines.empty()) throw wm::Error("webdataset: " + source + " has no frame records");
    action_names_ = wm::io::ActionFields(fields_).columns(wm::io::json::parse(lines.front(), source));
  }

#ifdef WM_WEBDATASET_VIDEO
  wm::video::ClipRequest request_;
  int threads_ = 1;
#endif
  bool records_only_ = false;  // video_ext: none
  int64_t frames_ = 1;
  std::vector<std::string> fields_, button_fields_, buttons_, signals_, action_names_;
  std::string video_ext_, records_ext_;
  int64_t stride_ = 1, span_ = 1, clip_step_ = 1;
  std::vector<wm::io::ShardSample> samples_;
  std::vector<Clip> clips_;
};

}  // namespace

WM_PLUGIN(wm::Dataset, WebDataset, "webdataset", "1.0.0",
          "Tar shards of <key>.mp4 + <key>.jsonl frame records (VPT, environment collection)")
