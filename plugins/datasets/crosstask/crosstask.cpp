// crosstask: the CrossTask data set. tasks_primary.txt / tasks_related.txt hold blocks (task id,
// name, URL, number of steps, comma-separated step names) separated by blank lines;
// annotations/<task id>_<video id>.csv has rows `step,start,end` (1-based step, seconds);
// videos.csv / videos_val.csv list `task id,video id,url`. A sample is one annotated step segment.
#include <torch/torch.h>

#include <fstream>
#include <set>

#include "wm/io/frame_records.h"
#include "wm/sdk.h"
#include "wm/video/video_clip.h"

namespace {

namespace fs = std::filesystem;

struct Task {
  std::string id, name;
  std::vector<std::string> steps;
  int64_t first_class = 0;  // action_label of step 1: steps of all tasks share one numbering
};

struct Segment {
  std::string task_id, video_id;
  int64_t row = 0, step = 0, task = 0;
  double start = 0, end = 0;
};

std::string trimmed(std::string text) {
  text.erase(0, text.find_first_not_of(" \t\r"));
  text.erase(text.find_last_not_of(" \t\r") + 1);
  return text;
}

// blocks of five lines separated by blank lines
std::vector<Task> read_tasks(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw wm::Error("crosstask: cannot read " + file.string());
  std::vector<Task> tasks;
  std::vector<std::string> block;
  auto finish = [&] {
    if (block.empty()) return;
    if (block.size() < 5)
      throw wm::Error("crosstask: " + file.string() + ": task block '" + block[0] +
                      "' needs 5 lines (id, name, URL, number of steps, step names)");
    Task task{block[0], block[1], wm::io::split_list(block[4]), 0};
    if (std::to_string(task.steps.size()) != block[3])
      throw wm::Error("crosstask: " + file.string() + ": task " + task.id + " says " + block[3] +
                      " steps but names " + std::to_string(task.steps.size()));
    tasks.push_back(std::move(task));
    block.clear();
  };
  for (std::string line; std::getline(in, line);) {
    line = trimmed(line);
    if (line.empty()) finish();
    else block.push_back(line);
  }
  finish();
  return tasks;
}

// task id -> video ids from videos.csv-style files
std::set<std::pair<std::string, std::string>> read_video_list(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw wm::Error("crosstask: cannot read " + file.string() + " (task id,video id,url rows)");
  std::set<std::pair<std::string, std::string>> videos;
  for (std::string line; std::getline(in, line);) {
    auto fields = wm::io::split_list(line);
    if (fields.size() >= 2) videos.emplace(fields[0], fields[1]);
  }
  return videos;
}

class CrossTask : public wm::Dataset {
 public:
  static wm::Schema schema() {
    wm::Schema schema;
    schema.path("root", "folder with tasks_primary.txt, tasks_related.txt, annotations/, "
                        "videos.csv, videos_val.csv").required()
        .path("videos", "folder searched (recursively) for <video id>.mp4/.webm/... "
                        "(default: <root>/videos)")
        .choice("subset", "all", {"all", "train", "val"},
                "all: videos.csv; val: videos_val.csv; train: videos.csv without videos_val.csv")
        .choice("tasks", "primary", {"primary", "related", "all"}, "which task list(s) to read");
    return wm::video::add_clip_params(schema);
  }

  explicit CrossTask(const wm::Params& params)
      : request_(wm::video::clip_request(params)), threads_(params.get<int>("threads")) {
    fs::path root = params.get<std::string>("root");
    if (!fs::exists(root / "tasks_primary.txt"))
      throw params.error("root", root.string() + " has no tasks_primary.txt (expected the CrossTask "
                                 "layout: tasks_primary.txt, tasks_related.txt, annotations/, "
                                 "videos.csv, videos_val.csv)");
    fs::path videos = params.get<std::string>("videos");
    if (videos.empty()) videos = root / "videos";
    if (!fs::is_directory(videos))
      throw params.error("videos", "no folder " + videos.string() + " (expected <video id>.mp4 files)");

    // tasks, with one step numbering across them
    std::string which = params.get<std::string>("tasks");
    if (which != "related") tasks_ = read_tasks(root / "tasks_primary.txt");
    if (which != "primary")
      for (auto& task : read_tasks(root / "tasks_related.txt")) tasks_.push_back(std::move(task));
    std::map<std::string, int64_t> task_index;
    int64_t classes = 0;
    for (size_t i = 0; i < tasks_.size(); ++i) {
      tasks_[i].first_class = classes;
      classes += static_cast<int64_t>(tasks_[i].steps.size());
      task_index[tasks_[i].id] = static_cast<int64_t>(i);
    }

    // the subset's videos
    std::string subset = params.get<std::string>("subset");
    auto listed = read_video_list(root / (subset == "val" ? "videos_val.csv" : "videos.csv"));
    if (subset == "train")
      for (const auto& held_out : read_video_list(root / "videos_val.csv")) listed.erase(held_out);

    auto found = wm::video::index_videos(videos);
    int64_t missing = 0, annotated = 0;
    for (const auto& [task_id, video_id] : listed) {
      auto task = task_index.find(task_id);
      if (task == task_index.end()) continue;  // a task outside the chosen list(s)
      fs::path csv = root / "annotations" / (task_id + "_" + video_id + ".csv");
      if (!fs::exists(csv)) continue;  // CrossTask annotates a part of its videos
      ++annotated;
      auto file = found.find(video_id);
      if (file == found.end()) {
        ++missing;
        continue;
      }
      files_[video_id] = file->second;
      read_annotation(csv, tasks_[static_cast<size_t>(task->second)], task->second, video_id);
    }
    if (segments_.empty())
      throw wm::Error("crosstask: no annotated step segments with a video (" +
                      std::to_string(annotated) + " annotated videos in subset '" + subset +
                      "', looked for <video id>.mp4/.webm/... under " + videos.string() + ")");
    if (missing > 0)
      wm::log().warn("crosstask: {} of {} annotated videos not found under {}; left out", missing,
                     annotated, videos.string());
  }

  int64_t size() const override { return static_cast<int64_t>(segments_.size()); }
  std::string id(int64_t index) const override {
    const Segment& s = segments_.at(static_cast<size_t>(index));
    return s.task_id + "_" + s.video_id + "/" + std::to_string(s.row);
  }
  // `<task>_<video>`: the steps of one video stay in one split
  std::string group(int64_t index) const override {
    const Segment& s = segments_.at(static_cast<size_t>(index));
    return s.task_id + "_" + s.video_id;
  }

  std::vector<wm::KeySpec> keys() const override {
    return {{"video", "uint8", "[T, 3, H, W]", "RGB frames of the step segment"},
            {"action_label", "int64", "[]", "step class, numbered across the tasks in file order"},
            {"step", "int64", "[]", "1-based step within its task"},
            {"task", "int64", "[]", "index of the task in the task list(s)"}};
  }

  wm::Sample get(int64_t index) const override {
    WM_CHECK(index >= 0 && index < size()) << "index " << index << " of " << size();
    const Segment& s = segments_[static_cast<size_t>(index)];
    const Task& task = tasks_[static_cast<size_t>(s.task)];
    const auto& file = files_.at(s.video_id);
    wm::video::Reader reader(file, threads_);
    wm::Sample sample;
    sample.tensors["video"] = wm::video::read_segment(reader, request_, s.start, s.end);
    sample.tensors["action_label"] = torch::tensor(task.first_class + s.step - 1, torch::kInt64);
    sample.tensors["step"] = torch::tensor(s.step, torch::kInt64);
    sample.tensors["task"] = torch::tensor(s.task, torch::kInt64);
    sample.id = id(index);
    sample.source = file.string();
    sample.text = task.steps[static_cast<size_t>(s.step - 1)];
    return sample;
  }

 private:
  void read_annotation(const fs::path& csv, const Task& task, int64_t task_index,
                       const std::string& video_id) {
    std::ifstream in(csv);
    int64_t row = 0;
    for (std::string line; std::getline(in, line);) {
      auto fields = wm::io::split_list(line);
      if (fields.empty()) continue;
      ++row;
      Segment s{task.id, video_id, row, 0, task_index, 0, 0};
      try {
        if (fields.size() != 3) throw std::invalid_argument("3 fields");
        s.step = std::stoll(fields[0]);
        s.start = std::stod(fields[1]);
        s.end = std::stod(fields[2]);
      } catch (const std::exception&) {
        throw wm::Error("crosstask: " + csv.string() + " row " + std::to_string(row) +
                        ": expected step,start,end, got '" + line + "'");
      }
      if (s.step < 1 || s.step > static_cast<int64_t>(task.steps.size()))
        throw wm::Error("crosstask: " + csv.string() + " row " + std::to_string(row) + ": step " +
                        fields[0] + " outside 1.." + std::to_string(task.steps.size()));
      segments_.push_back(s);
    }
  }

  wm::video::ClipRequest request_;
  int threads_;
  std::vector<Task> tasks_;
  std::map<std::string, fs::path> files_;
  std::vector<Segment> segments_;
};

}  // namespace

WM_PLUGIN(wm::Dataset, CrossTask, "crosstask", "1.0.0",
          "CrossTask: one sample per annotated step segment; task lists, annotation CSVs")
