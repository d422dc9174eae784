// ssv2: Something-Something v2. labels.json maps each template ("Pushing something from left to
// right") to its class id; train.json / validation.json list {id, label, template, placeholders}
// whose template carries [something] brackets, removed before the lookup; test.json lists ids
// only. Videos are <id>.webm (VP9, 240 px high, 12 fps). A sample is one video.
#include <torch/torch.h>

#include <fstream>
#include <sstream>

#include "wm/io/json.h"
#include "wm/sdk.h"
#include "wm/video/video_clip.h"

namespace {

const char* kLayout =
    "expected the Something-Something v2 layout: labels.json, train.json, validation.json, "
    "test.json and <id>.webm videos";

wm::io::json::Value read_json(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw wm::Error("ssv2: cannot read " + file.string() + " (" + kLayout + ")");
  std::stringstream text;
  text << in.rdbuf();
  return wm::io::json::parse(text.str(), file.string());
}

// "Putting [something] on [something]" -> "Putting something on something"
std::string without_brackets(std::string text) {
  text.erase(std::remove_if(text.begin(), text.end(), [](char c) { return c == '[' || c == ']'; }),
             text.end());
  return text;
}

struct Clip {
  std::string id;
  int64_t label = -1;  // -1 in the test subset
  std::string text;    // the label with its placeholders filled in
};

class Ssv2 : public wm::Dataset {
 public:
  static wm::Schema schema() {
    wm::Schema schema;
    schema.path("root", "folder with labels.json, train.json, validation.json, test.json").required()
        .path("videos", "folder of <id>.webm files (default: root)")
        .choice("subset", "train", {"train", "validation", "test"},
                "which list: train.json, validation.json or test.json (ids only, no labels)");
    return wm::video::add_clip_params(schema);
  }

  explicit Ssv2(const wm::Params& params)
      : root_(params.get<std::string>("root")),
        subset_(params.get<std::string>("subset")),
        request_(wm::video::clip_request(params)),
        threads_(params.get<int>("threads")) {
    if (!std::filesystem::is_directory(root_))
      throw params.error("root", "no folder " + root_.string() + " (" + kLayout + ")");
    std::filesystem::path videos = params.get<std::string>("videos");
    videos_ = videos.empty() ? root_ : videos;
    if (!std::filesystem::is_directory(videos_))
      throw params.error("videos", "no folder " + videos_.string() + " (expected <id>.webm files)");

    // labels.json: template -> "class id"
    std::map<std::string, int64_t> classes;
    wm::io::json::Value labels = read_json(root_ / "labels.json");
    for (const auto& [name, id] : labels.members()) {
      std::string text = id.to_text();
      if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
        throw wm::Error("ssv2: labels.json maps '" + name + "' to '" + text +
                        "', expected a class id such as \"12\"");
      classes[name] = std::stoll(text);
    }
    classes_ = static_cast<int64_t>(classes.size());

    auto list = root_ / (subset_ + ".json");
    wm::io::json::Value entries = read_json(list);
    for (const auto& entry : entries.items()) {
      const wm::io::json::Value* id = entry.find("id");
      if (!id) throw wm::Error("ssv2: an entry of " + list.string() + " has no 'id'");
      Clip clip{id->to_text(), -1, ""};
      if (subset_ != "test") {
        const wm::io::json::Value* templ = entry.find("template");
        const wm::io::json::Value* label = entry.find("label");
        if (!templ || !label)
          throw wm::Error("ssv2: entry " + clip.id + " of " + list.string() +
                          " needs 'template' and 'label'");
        auto found = classes.find(without_brackets(templ->as_string()));
        if (found == classes.end())
          throw wm::Error("ssv2: entry " + clip.id + " of " + list.string() + ": template '" +
                          templ->as_string() + "' is not in labels.json");
        clip.label = found->second;
        clip.text = label->as_string();
      }
      clips_.push_back(std::move(clip));
    }
  }

  int64_t size() const override { return static_cast<int64_t>(clips_.size()); }
  std::string id(int64_t index) const override { return clips_.at(static_cast<size_t>(index)).id; }
  // one clip per video: the video id
  std::string group(int64_t index) const override { return id(index); }

  std::vector<wm::KeySpec> keys() const override {
    std::vector<wm::KeySpec> keys = {{"video", "uint8", "[T, 3, H, W]", "RGB frames"}};
    if (subset_ != "test")
      keys.push_back({"action_label", "int64", "[]",
                      "class id of the template (" + std::to_string(classes_) + " classes)"});
    return keys;
  }

  wm::Sample get(int64_t index) const override {
    WM_CHECK(index >= 0 && index < size()) << "index " << index << " of " << size();
    const Clip& clip = clips_[static_cast<size_t>(index)];
    auto file = videos_ / (clip.id + ".webm");
    if (!std::filesystem::exists(file))
      throw wm::DataError(file.string(), "ssv2: missing video " + file.string());
    wm::video::Reader reader(file, threads_);
    wm::Sample sample;
    sample.tensors["video"] = wm::video::read_segment(reader, request_, 0, 0);
    if (clip.label >= 0) sample.tensors["action_label"] = torch::tensor(clip.label, torch::kInt64);
    sample.id = clip.id;
    sample.source = file.string();
    sample.text = clip.text;
    return sample;
  }

 private:
  std::filesystem::path root_, videos_;
  std::string subset_;
  wm::video::ClipRequest request_;
  int threads_;
  int64_t classes_ = 0;
  std::vector<Clip> clips_;
};

}  // namespace

WM_PLUGIN(wm::Dataset, Ssv2, "ssv2", "1.0.0",
          "Something-Something v2: labels.json, train/validation/test JSON, <id>.webm videos")
