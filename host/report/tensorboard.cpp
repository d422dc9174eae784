#include "report/tensorboard.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <vector>

#include "report/metrics_log.h"
#include "wm/error.h"

namespace wm {

//---- checksums ----

namespace {

// the byte-at-a-time table of the reflected Castagnoli polynomial
std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (crc & 1 ? 0x82F63B78u : 0u);
    table[byte] = crc;
  }
  return table;
}

}  // namespace

uint32_t crc32c(const void* data, size_t size) {
  static const std::array<uint32_t, 256> table = make_crc32c_table();
  const auto* bytes = static_cast<const uint8_t*>(data);
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(const void* data, size_t size) {
  uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
}

//---- protobuf wire format ----

namespace {

// the few protobuf encodings events need: varints, fixed 32/64-bit, length-delimited fields
class Message {
 public:
  Message& varint(int field, uint64_t value) {
    key(field, 0);
    put_varint(value);
    return *this;
  }
  Message& float32(int field, float value) {
    key(field, 5);
    uint32_t bits;
    std::memcpy(&bits, &value, 4);
    put_little_endian(bits, 4);
    return *this;
  }
  Message& float64(int field, double value) {
    key(field, 1);
    uint64_t bits;
    std::memcpy(&bits, &value, 8);
    put_little_endian(bits, 8);
    return *this;
  }
  Message& bytes(int field, const std::string& value) {
    key(field, 2);
    put_varint(value.size());
    text_ += value;
    return *this;
  }
  Message& message(int field, const Message& value) { return bytes(field, value.text_); }
  const std::string& encoded() const { return text_; }

 private:
  void key(int field, int wire_type) { put_varint(static_cast<uint64_t>(field) << 3 | wire_type); }
  void put_varint(uint64_t value) {
    for (; value >= 0x80; value >>= 7) text_ += static_cast<char>((value & 0x7F) | 0x80);
    text_ += static_cast<char>(value);
  }
  void put_little_endian(uint64_t value, int size) {
    for (int i = 0; i < size; ++i) text_ += static_cast<char>((value >> (8 * i)) & 0xFF);
  }
  std::string text_;
};

// field numbers of event.proto and summary.proto (6 is the deprecated LogMessage)
// clang-format off
enum EventField { kWallTime = 1, kStep = 2, kFileVersion = 3, kSummary = 5, kSessionLog = 7 };
enum ValueField { kTag = 1, kSimpleValue = 2, kImage = 4, kTensor = 8, kMetadata = 9 };
enum ImageField { kHeight = 1, kWidth = 2, kColorspace = 3, kEncoded = 4 };
enum TensorField { kDtype = 1, kShape = 2, kStringVal = 8 };
// clang-format on
constexpr int kDtString = 7, kColourspaceRgb = 3, kSessionStart = 1;

double wall_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// an Event holding a Summary with the given values
std::string summary_event(const std::vector<Message>& values, int64_t step) {
  Message summary;
  for (const auto& value : values) summary.message(1, value);
  return Message()
      .float64(kWallTime, wall_time())
      .varint(kStep, static_cast<uint64_t>(step))
      .message(kSummary, summary)
      .encoded();
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

}  // namespace

//---- the writer ----

TensorBoardWriter::TensorBoardWriter(const std::filesystem::path& dir) {
  static std::atomic<int> opened{0};
  std::filesystem::create_directories(dir);
  char name[512];
  std::snprintf(name, sizeof name, "events.out.tfevents.%010lld.%s.%d.%d",
                static_cast<long long>(wall_time()), host_name().c_str(), static_cast<int>(getpid()),
                opened++);
  file_ = dir / name;
  out_ = std::fopen(file_.c_str(), "wb");
  if (!out_) throw Error("cannot write " + file_.string() + ": " + std::strerror(errno));
  write_event(Message().float64(kWallTime, wall_time()).bytes(kFileVersion, "brain.Event:2").encoded());
}

TensorBoardWriter::~TensorBoardWriter() {
  if (out_) std::fclose(out_);
}

void TensorBoardWriter::write_event(const std::string& event) {
  // TFRecord: uint64 length, masked crc of those 8 bytes, the data, masked crc of the data
  char header[12];
  uint64_t length = event.size();
  for (int i = 0; i < 8; ++i) header[i] = static_cast<char>((length >> (8 * i)) & 0xFF);
  uint32_t crcs[2] = {masked_crc32c(header, 8), masked_crc32c(event.data(), event.size())};
  for (int i = 0; i < 4; ++i) header[8 + i] = static_cast<char>((crcs[0] >> (8 * i)) & 0xFF);
  char footer[4];
  for (int i = 0; i < 4; ++i) footer[i] = static_cast<char>((crcs[1] >> (8 * i)) & 0xFF);
  bool ok = std::fwrite(header, 1, 12, out_) == 12 &&
            std::fwrite(event.data(), 1, event.size(), out_) == event.size() &&
            std::fwrite(footer, 1, 4, out_) == 4 && std::fflush(out_) == 0;
  if (!ok) throw Error("cannot write " + file_.string() + ": " + std::strerror(errno));
}

void TensorBoardWriter::scalars(const std::string& procedure, const std::string& label,
                                const std::map<std::string, double>& values, int64_t step) {
  if (step < 0) {
    auto given = values.find("step");
    step = given != values.end() ? static_cast<int64_t>(given->second) : last_step_;
  }
  last_step_ = std::max(last_step_, step);
  std::vector<Message> summary;
  for (const auto& [key, value] : values) {
    if (key == "step" || key == "time") continue;
    summary.push_back(Message()
                          .bytes(kTag, summary_key(procedure, label, key))
                          .float32(kSimpleValue, static_cast<float>(value)));
  }
  if (!summary.empty()) write_event(summary_event(summary, step));
}

void TensorBoardWriter::image(const std::string& tag, const std::string& png, int64_t height,
                              int64_t width, int64_t step) {
  Message image;
  image.varint(kHeight, static_cast<uint64_t>(height))
      .varint(kWidth, static_cast<uint64_t>(width))
      .varint(kColorspace, kColourspaceRgb)
      .bytes(kEncoded, png);
  write_event(summary_event({Message().bytes(kTag, tag).message(kImage, image)}, step));
}

void TensorBoardWriter::text(const std::string& tag, const std::string& markdown, int64_t step) {
  // a scalar DT_STRING tensor marked for the text plugin (SummaryMetadata.plugin_data)
  Message tensor;
  tensor.varint(kDtype, kDtString).message(kShape, Message()).bytes(kStringVal, markdown);
  Message metadata;
  metadata.message(1, Message().bytes(1, "text"));
  write_event(summary_event(
      {Message().bytes(kTag, tag).message(kMetadata, metadata).message(kTensor, tensor)}, step));
}

void TensorBoardWriter::restart_at(int64_t step) {
  // SessionLog{status: START} at `step`: TensorBoard's purge of orphaned data
  write_event(Message()
                  .float64(kWallTime, wall_time())
                  .varint(kStep, static_cast<uint64_t>(step))
                  .message(kSessionLog, Message().varint(1, kSessionStart))
                  .encoded());
  // the last step kept is the one before the restart (a finished train: its final step)
  last_step_ = std::max<int64_t>(step - 1, 0);
}

}  // namespace wm
