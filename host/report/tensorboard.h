// TensorBoard event files written natively: TFRecord framing (length, masked CRC32C of the
// length, data, masked CRC32C of the data) around hand-encoded Event protobufs, so no protobuf
// or TensorFlow library is needed. `tensorboard --logdir runs/` reads them; docs/run_folder.md
// lists what a run writes. The wire format follows tensorflow/core/util/event.proto and
// summary.proto, and tensorflow/core/lib/io/record_writer.cc for the framing.
#pragma once
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

namespace wm {

//---- checksums ----

// CRC-32C (Castagnoli, reflected 0x82F63B78), as TFRecord uses it; crc32c("123456789") = 0xE3069283
uint32_t crc32c(const void* data, size_t size);
// TFRecord's masked form: rotate right by 15 and add 0xA282EAD8
uint32_t masked_crc32c(const void* data, size_t size);

//---- one events file ----

class TensorBoardWriter {
 public:
  // creates `dir` and a fresh events.out.tfevents.<seconds>.<host>.<pid>.<n> in it, starting
  // with the file_version event TensorBoard expects first
  explicit TensorBoardWriter(const std::filesystem::path& dir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  const std::filesystem::path& file() const { return file_; }

  // one scalar per value, tagged <procedure>[<label>]/<key> like the sweep summaries; "step" and
  // "time" are the axis, not values. Without a step the largest step written so far is used.
  void scalars(const std::string& procedure, const std::string& label,
               const std::map<std::string, double>& values, int64_t step = -1);
  // a PNG-encoded image (see png_writer.h) of height x width x 3
  void image(const std::string& tag, const std::string& png, int64_t height, int64_t width, int64_t step);
  // markdown shown by TensorBoard's text plugin
  void text(const std::string& tag, const std::string& markdown, int64_t step);
  // a restart at `step` (a resumed run): TensorBoard drops the earlier files' events from this
  // step on, so the curve shows the resumed run's values once instead of both
  void restart_at(int64_t step);

  // the step used when a caller gives none
  int64_t last_step() const { return last_step_; }

 private:
  void write_event(const std::string& event);  // one TFRecord, flushed
  std::filesystem::path file_;
  std::FILE* out_ = nullptr;
  int64_t last_step_ = 0;
};

}  // namespace wm
