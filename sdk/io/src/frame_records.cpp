#include "wm/io/frame_records.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "wm/error.h"

namespace wm::io {

std::vector<std::string> split_list(const std::string& comma_separated) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= comma_separated.size()) {
    size_t comma = comma_separated.find(',', start);
    if (comma == std::string::npos) comma = comma_separated.size();
    std::string item = comma_separated.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) items.push_back(item);
    start = comma + 1;
  }
  return items;
}

namespace {

[[noreturn]] void record_error(const std::string& source, size_t record, const std::string& what) {
  throw DataError(source, "record " + std::to_string(record + 1) + ": " + what);
}

const json::Value& field_of(const std::vector<json::Value>& records, size_t record,
                            const std::string& field, const std::string& source) {
  if (record >= records.size())
    record_error(source, record, "missing (the file has " + std::to_string(records.size()) +
                                     " frame records)");
  const json::Value* value = records[record].find_path(field);
  if (!value) record_error(source, record, "no field '" + field + "'");
  return *value;
}

double number_of(const json::Value& value, size_t record, const std::string& field,
                 const std::string& source) {
  if (value.is_number()) return value.as_number();
  if (value.is_bool()) return value.as_bool() ? 1.0 : 0.0;
  record_error(source, record, "field '" + field + "' is a " + type_name(value.type()) +
                                   ", expected a number");
}

// an action value: `inf`, `nan` and values whose difference overflows are a data error, so one
// bad record skips its sample instead of poisoning a mean or a loss
double finite_action(double value, size_t record, const std::string& field,
                     const std::string& source) {
  if (!std::isfinite(value))
    record_error(source, record, "field '" + field + "' gives a non-finite action (" +
                                     std::to_string(value) + ")");
  return value;
}

bool is_diff(const std::string& field) {
  return field.size() > 5 && field.compare(field.size() - 5, 5, "_diff") == 0;
}

}  // namespace

//---- continuous actions ----

ActionFields::ActionFields(std::vector<std::string> fields) : fields_(std::move(fields)) {
  if (fields_.empty()) throw Error("action fields: name at least one field (e.g. mouse.dx)");
}

ActionFields ActionFields::parse(const std::string& comma_separated) {
  return ActionFields(split_list(comma_separated));
}

std::vector<std::string> ActionFields::columns(const json::Value& record) const {
  std::vector<std::string> names;
  for (const auto& field : fields_) {
    const json::Value* value = record.find_path(field);
    if (value && value->is_array()) {
      for (size_t i = 0; i < value->items().size(); ++i)
        names.push_back(field + "." + std::to_string(i));
    } else {
      names.push_back(field);
    }
  }
  return names;
}

size_t ActionFields::append_rows(const std::vector<json::Value>& records, size_t first,
                                 size_t frames, const std::string& source,
                                 std::vector<double>& out) const {
  if (frames < 2) return 0;
  if (first + frames > records.size())
    record_error(source, first + frames - 1,
                 "missing (the file has " + std::to_string(records.size()) + " frame records)");
  size_t columns = 0;
  for (size_t t = first; t + 1 < first + frames; ++t) {
    size_t row_columns = 0;
    for (const auto& field : fields_) {
      const json::Value* own = records[t].find_path(field);
      if (!own && is_diff(field)) {
        // "<f>_diff": the change of <f> from this frame to the next
        std::string base = field.substr(0, field.size() - 5);
        double now = number_of(field_of(records, t, base, source), t, base, source);
        double next = number_of(field_of(records, t + 1, base, source), t + 1, base, source);
        out.push_back(finite_action(next - now, t, field, source));
        ++row_columns;
        continue;
      }
      if (!own) record_error(source, t, "no field '" + field + "'");
      if (own->is_array()) {
        for (const auto& item : own->items())
          out.push_back(finite_action(number_of(item, t, field, source), t, field, source));
        row_columns += own->items().size();
      } else {
        out.push_back(finite_action(number_of(*own, t, field, source), t, field, source));
        ++row_columns;
      }
    }
    if (t == first) columns = row_columns;
    if (row_columns != columns)
      record_error(source, t, "has " + std::to_string(row_columns) + " action values, record " +
                                  std::to_string(first + 1) + " has " + std::to_string(columns));
  }
  return columns;
}

at::Tensor ActionFields::rows(const std::vector<json::Value>& records, size_t first,
                              size_t frames, const std::string& source) const {
  std::vector<double> values;
  size_t columns = append_rows(records, first, frames, source, values);
  if (frames < 2) return at::empty({0, 0}, at::kFloat);
  auto rows = static_cast<int64_t>(frames - 1);
  return at::from_blob(values.data(), {rows, static_cast<int64_t>(columns)}, at::kDouble)
      .to(at::kFloat);
}

size_t ActionFields::append_stride_sums(const std::vector<json::Value>& records, size_t first,
                                        size_t steps, size_t stride, const std::string& source,
                                        std::vector<double>& out) const {
  if (stride < 1) throw Error("action rows: stride must be >= 1, got " + std::to_string(stride));
  if (steps == 0) return 0;
  if (stride == 1) return append_rows(records, first, steps + 1, source, out);
  // per-frame rows of the whole span, then each stride's rows added in frame order
  std::vector<double> rows;
  size_t columns = append_rows(records, first, steps * stride + 1, source, rows);
  size_t base = out.size();
  out.resize(base + steps * columns, 0.0);
  for (size_t step = 0; step < steps; ++step)
    for (size_t r = 0; r < stride; ++r) {
      const double* row = rows.data() + (step * stride + r) * columns;
      double* sum = out.data() + base + step * columns;
      for (size_t c = 0; c < columns; ++c) sum[c] += row[c];
    }
  for (size_t i = base; i < out.size(); ++i)
    if (!std::isfinite(out[i]))
      record_error(source, first + (i - base) / columns * stride,
                   "the actions of one stride add up to a non-finite value");
  return columns;
}

at::Tensor ActionFields::stride_sums(const std::vector<json::Value>& records, size_t first,
                                     size_t steps, size_t stride, const std::string& source) const {
  std::vector<double> values;
  size_t columns = append_stride_sums(records, first, steps, stride, source, values);
  if (steps == 0) return at::empty({0, 0}, at::kFloat);
  return at::from_blob(values.data(), {static_cast<int64_t>(steps), static_cast<int64_t>(columns)},
                       at::kDouble)
      .to(at::kFloat);
}

//---- clips ----

std::vector<int64_t> clip_starts(int64_t records, int64_t span, bool every_clip) {
  if (every_clip) return clip_starts_every(records, span, span);
  if (span < 1 || span > records) return {};
  return {0};
}

std::vector<int64_t> clip_starts_every(int64_t records, int64_t span, int64_t step) {
  std::vector<int64_t> starts;
  if (span < 1 || step < 1) return starts;
  for (int64_t start = 0; start + span <= records; start += step) starts.push_back(start);
  return starts;
}

//---- per-frame signals ----

at::Tensor frame_scalars(const std::vector<json::Value>& records, size_t first, size_t frames,
                         const std::string& field, const std::string& source) {
  auto out = at::empty({static_cast<int64_t>(frames)}, at::kFloat);
  float* data = out.data_ptr<float>();
  for (size_t t = 0; t < frames; ++t)
    data[t] = static_cast<float>(
        number_of(field_of(records, first + t, field, source), first + t, field, source));
  return out;
}

at::Tensor frame_vectors(const std::vector<json::Value>& records, size_t first, size_t frames,
                         const std::string& field, const std::string& source) {
  std::vector<float> values;
  size_t width = 0;
  for (size_t t = first; t < first + frames; ++t) {
    const json::Value& value = field_of(records, t, field, source);
    if (!value.is_array())
      record_error(source, t, "field '" + field + "' is a " + type_name(value.type()) +
                                  ", expected an array");
    if (t == first) width = value.items().size();
    if (value.items().size() != width)
      record_error(source, t, "field '" + field + "' has " +
                                  std::to_string(value.items().size()) + " values, record " +
                                  std::to_string(first + 1) + " has " + std::to_string(width));
    for (const auto& item : value.items())
      values.push_back(static_cast<float>(number_of(item, t, field, source)));
  }
  return at::from_blob(values.data(),
                       {static_cast<int64_t>(frames), static_cast<int64_t>(width)}, at::kFloat)
      .clone();
}

at::Tensor multi_hot(const std::vector<json::Value>& records, size_t first, size_t frames,
                     const std::vector<std::string>& fields,
                     const std::vector<std::string>& vocabulary, const std::string& source) {
  int64_t rows = frames > 0 ? static_cast<int64_t>(frames - 1) : 0;
  auto out = at::zeros({rows, static_cast<int64_t>(vocabulary.size())}, at::kFloat);
  float* data = out.data_ptr<float>();
  for (int64_t row = 0; row < rows; ++row) {
    size_t t = first + static_cast<size_t>(row);
    for (const auto& field : fields) {
      const json::Value& list = field_of(records, t, field, source);
      if (list.is_null()) continue;
      if (!list.is_array())
        record_error(source, t, "field '" + field + "' is a " + type_name(list.type()) +
                                    ", expected a list of names");
      for (const auto& item : list.items()) {
        auto it = std::find(vocabulary.begin(), vocabulary.end(), item.to_text());
        if (it != vocabulary.end()) data[row * out.size(1) + (it - vocabulary.begin())] = 1.0f;
      }
    }
  }
  return out;
}

}  // namespace wm::io
