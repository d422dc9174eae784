// Per-frame JSON records (one JSON object per frame, as in the .jsonl members of webdataset
// shards) turned into action tensors. Conventions, shared by the webdataset plugin, the
// fit_action_scaler procedure and environment collection:
//   - the action of row t acts between frame t and frame t+1, so a clip of T frames has T-1 rows
//     and uses records t = 0..T-2 (the last frame's action is never read);
//   - a field is a dotted path into nested objects ("mouse.dx" reads {"mouse": {"dx": 3}});
//   - "<f>_diff", when a record has no such field of its own, is record[t+1].f - record[t].f
//     ("yaw_diff", "pitch_diff");
//   - an array field ("action": [0.1, -0.2, 0.0]) contributes all its elements, named action.0...;
//   - button and key fields are lists of names; multi_hot() marks which of a vocabulary are held.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "wm/io/json.h"

namespace wm::io {

//---- continuous actions ----

class ActionFields {
 public:
  // e.g. {"mouse.dx", "mouse.dy", "yaw_diff", "pitch_diff"} or {"action"}
  explicit ActionFields(std::vector<std::string> fields);
  // from a comma-separated list: "mouse.dx, mouse.dy, yaw_diff, pitch_diff"
  static ActionFields parse(const std::string& comma_separated);

  // the column names, given a record to size array fields ("mouse.dx", "action.0", ...)
  std::vector<std::string> columns(const json::Value& record) const;
  // appends the rows of frames [first, first + frames) (frames - 1 rows, row-major) to `out`;
  // returns the number of columns. A missing, non-numeric or non-finite (inf, nan) value throws
  // wm::DataError naming the field and the record (`source` line n).
  size_t append_rows(const std::vector<json::Value>& records, size_t first, size_t frames,
                     const std::string& source, std::vector<double>& out) const;
  // the same rows as float32 [frames - 1, columns]
  at::Tensor rows(const std::vector<json::Value>& records, size_t first, size_t frames,
                  const std::string& source) const;
  // the actions between frames sampled every `stride` records: frames [first, first + steps *
  // stride] give `steps` rows, each the float64 sum of the `stride` per-frame rows it spans
  // (movements and angle changes add up). Appended to `out`; returns the number of columns.
  size_t append_stride_sums(const std::vector<json::Value>& records, size_t first, size_t steps,
                            size_t stride, const std::string& source, std::vector<double>& out) const;
  // the same as float32 [steps, columns] (the webdataset plugin's `actions`)
  at::Tensor stride_sums(const std::vector<json::Value>& records, size_t first, size_t steps,
                         size_t stride, const std::string& source) const;

  const std::vector<std::string>& fields() const { return fields_; }

 private:
  std::vector<std::string> fields_;
};

//---- per-frame signals ----

// one number per frame, [frames] float32, from records [first, first + frames): reward, success
at::Tensor frame_scalars(const std::vector<json::Value>& records, size_t first, size_t frames,
                         const std::string& field, const std::string& source);
// one array per frame, [frames, S] float32: state
at::Tensor frame_vectors(const std::vector<json::Value>& records, size_t first, size_t frames,
                         const std::string& field, const std::string& source);

// multi-hot [frames - 1, names] float32: row t has 1 where a name in `vocabulary` appears in any of
// record t's list `fields` (list items match by their text: "key.keyboard.w", 0 -> "0")
at::Tensor multi_hot(const std::vector<json::Value>& records, size_t first, size_t frames,
                     const std::vector<std::string>& fields,
                     const std::vector<std::string>& vocabulary, const std::string& source);

//---- clips ----

// where the clips of a sample with `records` frame records start, each spanning `span` records:
// only 0 (when it fits) for every_clip false, else 0, span, 2 * span ... while a whole clip fits.
// The webdataset plugin and fit_action_scaler cut clips with this one rule.
std::vector<int64_t> clip_starts(int64_t records, int64_t span, bool every_clip);
// every start 0, step, 2 * step ... whose clip of `span` records fits; a step below the span makes
// clips overlap (step 1 with span 2: every transition of the sample)
std::vector<int64_t> clip_starts_every(int64_t records, int64_t span, int64_t step);

// "a, b,c" -> {"a", "b", "c"} (spaces trimmed, empty items dropped)
std::vector<std::string> split_list(const std::string& comma_separated);

}  // namespace wm::io
