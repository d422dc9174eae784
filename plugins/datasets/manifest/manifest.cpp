// manifest: any folder of videos, listed in a CSV of `path,label[,start,end]` rows (an optional
// header row starting with "path"). Relative paths resolve against the CSV's folder. Labels that
// are all integers are used as they are; otherwise names are numbered in sorted order.
#include <torch/torch.h>

#include <fstream>
#include <set>

#include "wm/sdk.h"
#include "wm/video/video_clip.h"

namespace {

namespace fs = std::filesystem;

struct Row {
  std::string listed;  // the path as the CSV writes it: the sample id, stable as rows are added
  fs::path file;
  std::string label;
  double start = 0, end = 0;  // end <= start: the whole video
  int64_t line = 0;
};

// one CSV line; double quotes protect commas ("a, b.mp4") and "" is a literal quote
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') fields.back() += '"', ++i;
    else if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) fields.emplace_back();
    else if (c != '\r') fields.back() += c;
  }
  for (auto& field : fields) {
    field.erase(0, field.find_first_not_of(" \t"));
    field.erase(field.find_last_not_of(" \t") + 1);
  }
  return fields;
}

bool is_integer(const std::string& text) {
  size_t digits = text.find_first_not_of('-') == 1 ? 1 : 0;
  return !text.empty() && digits < text.size() &&
         text.find_first_not_of("0123456789", digits) == std::string::npos;
}

class Manifest : public wm::Dataset {
 public:
  static wm::Schema schema() {
    wm::Schema schema;
    schema.path("csv", "rows of path,label[,start,end]; paths relative to the CSV's folder")
        .required();
    return wm::video::add_clip_params(schema);
  }

  explicit Manifest(const wm::Params& params)
      : request_(wm::video::clip_request(params)), threads_(params.get<int>("threads")) {
    fs::path csv = params.get<std::string>("csv");
    std::ifstream in(csv);
    if (!in)
      throw params.error("csv", "cannot read " + csv.string() +
                                    " (expected a CSV of path,label[,start,end] rows)");
    int64_t line_number = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_number;
      auto fields = csv_fields(line);
      if (fields.size() == 1 && fields[0].empty()) continue;
      if (line_number == 1 && fields[0] == "path") continue;  // header
      if (fields.size() != 2 && fields.size() != 4)
        throw wm::Error("manifest: " + csv.string() + ":" + std::to_string(line_number) +
                        ": expected path,label or path,label,start,end; got " +
                        std::to_string(fields.size()) + " fields");
      Row row{fields[0], csv.parent_path() / fields[0], fields[1], 0, 0, line_number};
      if (fs::path(fields[0]).is_absolute()) row.file = fields[0];
      if (fields.size() == 4) {
        try {
          row.start = std::stod(fields[2]);
          row.end = std::stod(fields[3]);
        } catch (const std::exception&) {
          throw wm::Error("manifest: " + csv.string() + ":" + std::to_string(line_number) +
                          ": start and end must be seconds, got '" + fields[2] + "', '" +
                          fields[3] + "'");
        }
      }
      rows_.push_back(std::move(row));
    }
    if (rows_.empty())
      throw params.error("csv", csv.string() + " lists no videos (expected path,label rows)");
    number_labels();
  }

  int64_t size() const override { return static_cast<int64_t>(rows_.size()); }
  std::string id(int64_t index) const override {
    const Row& row = rows_.at(static_cast<size_t>(index));
    std::string id = row.listed;
    if (row.end > row.start) id += "@" + std::to_string(row.start) + "-" + std::to_string(row.end);
    return id;
  }
  // the listed file: segments of one video stay in one split
  std::string group(int64_t index) const override { return rows_.at(static_cast<size_t>(index)).listed; }

  std::vector<wm::KeySpec> keys() const override {
    return {{"video", "uint8", "[T, 3, H, W]", "RGB frames"},
            {"action_label", "int64", "[]",
             integer_labels_ ? "the CSV's label" : "label name's index in sorted order"}};
  }

  wm::Sample get(int64_t index) const override {
    WM_CHECK(index >= 0 && index < size()) << "index " << index << " of " << size();
    const Row& row = rows_[static_cast<size_t>(index)];
    if (!fs::exists(row.file))
      throw wm::DataError(row.file.string(), "manifest: missing video " + row.file.string() +
                                                 " (listed on line " + std::to_string(row.line) + ")");
    wm::video::Reader reader(row.file, threads_);
    wm::Sample sample;
    sample.tensors["video"] = wm::video::read_segment(reader, request_, row.start, row.end);
    sample.tensors["action_label"] = torch::tensor(labels_[static_cast<size_t>(index)], torch::kInt64);
    sample.id = id(index);
    sample.source = row.file.string();
    sample.text = row.label;
    return sample;
  }

 private:
  void number_labels() {
    integer_labels_ = std::all_of(rows_.begin(), rows_.end(),
                                  [](const Row& row) { return is_integer(row.label); });
    std::set<std::string> names;
    for (const auto& row : rows_) names.insert(row.label);
    for (const auto& row : rows_)
      labels_.push_back(integer_labels_
                            ? std::stoll(row.label)
                            : std::distance(names.begin(), names.find(row.label)));
  }

  wm::video::ClipRequest request_;
  int threads_;
  std::vector<Row> rows_;
  std::vector<int64_t> labels_;
  bool integer_labels_ = false;
};

}  // namespace

WM_PLUGIN(wm::Dataset, Manifest, "manifest", "1.0.0",
          "Any videos listed in a CSV of path,label[,start,end]")
