// coin: the COIN instructional-video data set. COIN.json holds {"database": {<youtube id>:
// {recipe_type, class, subset, annotation: [{id, segment: [start_s, end_s], label}]}}}; a sample
// is one annotated step segment. recipe_type is the task (180), annotation id the step (778).
// Videos are found by youtube id anywhere under `videos` (<id>.mp4, .webm, .mkv, ...).
#include <torch/torch.h>

#include <fstream>
#include <sstream>

#include "wm/io/json.h"
#include "wm/sdk.h"
#include "wm/video/video_clip.h"

namespace {

struct Segment {
  std::string video_id;
  int64_t index = 0;  // position in the video's annotation list
  double start = 0, end = 0;
  int64_t step = 0, task = 0;
  std::string label;
};

int64_t integer_of(const wm::io::json::Value& value, const std::string& what) {
  std::string text = value.to_text();
  try {
    size_t used = 0;
    int64_t number = std::stoll(text, &used);
    if (used == text.size()) return number;
  } catch (const std::exception&) {
  }
  throw wm::Error("coin: " + what + " '" + text + "' is not an integer");
}

class Coin : public wm::Dataset {
 public:
  static wm::Schema schema() {
    wm::Schema schema;
    schema.path("annotations", "COIN.json").required()
        .path("videos", "folder searched (recursively) for <youtube id>.<mp4|webm|mkv|avi|mov>")
        .required()
        .choice("subset", "training", {"training", "testing"}, "the database's subset field");
    return wm::video::add_clip_params(schema);
  }

  explicit Coin(const wm::Params& params)
      : subset_(params.get<std::string>("subset")),
        request_(wm::video::clip_request(params)),
        threads_(params.get<int>("threads")) {
    std::filesystem::path file = params.get<std::string>("annotations");
    std::ifstream in(file, std::ios::binary);
    if (!in)
      throw params.error("annotations", "cannot read " + file.string() +
                                            " (expected COIN.json: {\"database\": {<youtube id>: "
                                            "{recipe_type, subset, annotation: [...]}}})");
    std::filesystem::path videos = params.get<std::string>("videos");
    if (!std::filesystem::is_directory(videos))
      throw params.error("videos", "no folder " + videos.string() +
                                       " (expected <youtube id>.mp4 files, in subfolders or not)");
    std::stringstream text;
    text << in.rdbuf();
    wm::io::json::Value root = wm::io::json::parse(text.str(), file.string());
    const wm::io::json::Value* database = root.find("database");
    if (!database || !database->is_object())
      throw wm::Error("coin: " + file.string() + " has no \"database\" object");

    auto found = wm::video::index_videos(videos);
    int64_t missing_videos = 0, listed = 0;
    for (const auto& [video_id, entry] : database->members()) {
      const wm::io::json::Value* subset = entry.find("subset");
      if (!subset || subset->to_text() != subset_) continue;
      ++listed;
      auto video = found.find(video_id);
      if (video == found.end()) {
        ++missing_videos;
        continue;
      }
      files_[video_id] = video->second;
      const wm::io::json::Value* task = entry.find("recipe_type");
      const wm::io::json::Value* annotation = entry.find("annotation");
      if (!task || !annotation || !annotation->is_array())
        throw wm::Error("coin: video " + video_id + " in " + file.string() +
                        " needs 'recipe_type' and an 'annotation' list");
      int64_t index = 0;
      for (const auto& step : annotation->items()) {
        const wm::io::json::Value* id = step.find("id");
        const wm::io::json::Value* segment = step.find("segment");
        if (!id || !segment || !segment->is_array() || segment->items().size() != 2)
          throw wm::Error("coin: an annotation of video " + video_id +
                          " needs 'id' and 'segment': [start, end]");
        Segment s;
        s.video_id = video_id;
        s.index = index++;
        s.start = segment->items()[0].as_number();
        s.end = segment->items()[1].as_number();
        s.step = integer_of(*id, "step id of video " + video_id);
        s.task = integer_of(*task, "recipe_type of video " + video_id);
        if (const wm::io::json::Value* label = step.find("label")) s.label = label->to_text();
        segments_.push_back(std::move(s));
      }
    }
    if (segments_.empty())
      throw wm::Error("coin: no segments of subset '" + subset_ + "' have a video: " +
                      std::to_string(listed) + " videos listed, none found under " +
                      videos.string() + " as <youtube id>.mp4/.webm/.mkv/.avi/.mov");
    if (missing_videos > 0)
      wm::log().warn("coin: {} of {} '{}' videos not found under {}; their segments are left out",
                     missing_videos, listed, subset_, videos.string());
  }

  int64_t size() const override { return static_cast<int64_t>(segments_.size()); }
  std::string id(int64_t index) const override {
    const Segment& s = segments_.at(static_cast<size_t>(index));
    return s.video_id + "/" + std::to_string(s.index);
  }
  // the youtube id: the segments of one video stay in one split
  std::string group(int64_t index) const override { return segments_.at(static_cast<size_t>(index)).video_id; }

  std::vector<wm::KeySpec> keys() const override {
    return {{"video", "uint8", "[T, 3, H, W]", "RGB frames of the step segment"},
            {"action_label", "int64", "[]", "step class (annotation id)"},
            {"task", "int64", "[]", "task class (recipe_type)"}};
  }

  wm::Sample get(int64_t index) const override {
    WM_CHECK(index >= 0 && index < size()) << "index " << index << " of " << size();
    const Segment& s = segments_[static_cast<size_t>(index)];
    const auto& file = files_.at(s.video_id);
    wm::video::Reader reader(file, threads_);
    wm::Sample sample;
    sample.tensors["video"] = wm::video::read_segment(reader, request_, s.start, s.end);
    sample.tensors["action_label"] = torch::tensor(s.step, torch::kInt64);
    sample.tensors["task"] = torch::tensor(s.task, torch::kInt64);
    sample.id = id(index);
    sample.source = file.string();
    sample.text = s.label;
    return sample;
  }

 private:
  std::string subset_;
  wm::video::ClipRequest request_;
  int threads_;
  std::map<std::string, std::filesystem::path> files_;
  std::vector<Segment> segments_;
};

}  // namespace

WM_PLUGIN(wm::Dataset, Coin, "coin", "1.0.0",
          "COIN: one sample per annotated step segment of COIN.json; step and task labels")
