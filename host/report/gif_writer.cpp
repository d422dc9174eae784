#include "report/gif_writer.h"

#include <ATen/ATen.h>

#include <array>
#include <string>
#include <unordered_map>

#include "wm/io/atomic_file.h"
#include "wm/error.h"

namespace wm {

namespace {

// palette: a 6x6x6 colour cube (216 entries), then 40 greys for the dark, neutral backgrounds
// that a cube renders tinted
constexpr int kGreys = 40;

std::array<uint8_t, 768> make_palette() {
  std::array<uint8_t, 768> palette{};
  int index = 0;
  for (int r = 0; r < 6; ++r)
    for (int g = 0; g < 6; ++g)
      for (int b = 0; b < 6; ++b, ++index) {
        palette[3 * index] = static_cast<uint8_t>(r * 51);
        palette[3 * index + 1] = static_cast<uint8_t>(g * 51);
        palette[3 * index + 2] = static_cast<uint8_t>(b * 51);
      }
  for (int i = 0; i < kGreys; ++i, ++index)
    palette[3 * index] = palette[3 * index + 1] = palette[3 * index + 2] =
        static_cast<uint8_t>(i * 255 / (kGreys - 1));
  return palette;
}

// the closer of the nearest cube colour and the nearest grey
uint8_t nearest(uint8_t r, uint8_t g, uint8_t b) {
  int ri = (r + 25) / 51, gi = (g + 25) / 51, bi = (b + 25) / 51;
  auto square = [](int x) { return x * x; };
  int cube_error = square(r - ri * 51) + square(g - gi * 51) + square(b - bi * 51);
  int grey_index = ((r + g + b) / 3 * (kGreys - 1) + 127) / 255;
  int grey = grey_index * 255 / (kGreys - 1);
  int grey_error = square(r - grey) + square(g - grey) + square(b - grey);
  if (grey_error < cube_error) return static_cast<uint8_t>(216 + grey_index);
  return static_cast<uint8_t>(ri * 36 + gi * 6 + bi);
}

// GIF's variable-width LZW, packing codes least-significant bit first into 255-byte sub-blocks
class LzwEncoder {
 public:
  explicit LzwEncoder(std::string& out) : out_(out) {}

  void encode(const std::vector<uint8_t>& indices) {
    constexpr int kMinCodeSize = 8, kClear = 256, kEnd = 257;
    out_ += static_cast<char>(kMinCodeSize);
    reset_table();
    emit(kClear);
    int prefix = indices.empty() ? -1 : indices[0];
    for (size_t i = 1; i < indices.size(); ++i) {
      int key = (prefix << 8) | indices[i];
      auto it = table_.find(key);
      if (it != table_.end()) {
        prefix = it->second;
        continue;
      }
      emit(prefix);
      if (next_code_ < 4096) {
        table_[key] = next_code_++;
        if (next_code_ > (1 << code_size_) && code_size_ < 12) ++code_size_;
      } else {
        emit(kClear);
        reset_table();
      }
      prefix = indices[i];
    }
    if (prefix >= 0) emit(prefix);
    emit(kEnd);
    if (bit_count_ > 0) push_byte(static_cast<uint8_t>(bits_));
    flush_block();
    out_ += '\0';  // block terminator
  }

 private:
  void reset_table() {
    table_.clear();
    next_code_ = 258;
    code_size_ = 9;
  }
  void emit(int code) {
    bits_ |= static_cast<uint32_t>(code) << bit_count_;
    bit_count_ += code_size_;
    while (bit_count_ >= 8) {
      push_byte(static_cast<uint8_t>(bits_ & 0xff));
      bits_ >>= 8;
      bit_count_ -= 8;
    }
  }
  void push_byte(uint8_t byte) {
    block_ += static_cast<char>(byte);
    if (block_.size() == 255) flush_block();
  }
  void flush_block() {
    if (block_.empty()) return;
    out_ += static_cast<char>(block_.size());
    out_ += block_;
    block_.clear();
  }

  std::string& out_;
  std::string block_;
  std::unordered_map<int, int> table_;
  int next_code_ = 258, code_size_ = 9, bit_count_ = 0;
  uint32_t bits_ = 0;
};

void put16(std::string& out, int value) {
  out += static_cast<char>(value & 0xff);
  out += static_cast<char>((value >> 8) & 0xff);
}

}  // namespace

void write_gif(const std::filesystem::path& file, const at::Tensor& frames, int frame_delay_ms,
               int scale) {
  if (frames.dim() != 4 || frames.size(1) != 3)
    throw Error("write_gif: frames must be [T, 3, H, W], got " + std::to_string(frames.dim()) +
                " dimensions");
  at::Tensor pixels = frames.scalar_type() == at::kByte
                          ? frames.cpu()
                          : frames.detach().cpu().clamp(0, 1).mul(255).round().to(at::kByte);
  if (scale > 1)
    pixels = pixels.repeat_interleave(scale, 2).repeat_interleave(scale, 3);
  pixels = pixels.permute({0, 2, 3, 1}).contiguous();  // [T, H, W, 3]
  int height = static_cast<int>(pixels.size(1)), width = static_cast<int>(pixels.size(2));
  if (width > 65535 || height > 65535) throw Error("write_gif: frames larger than 65535 pixels");

  std::string out = "GIF89a";
  put16(out, width);
  put16(out, height);
  out += static_cast<char>(0xF7);  // global colour table of 256 entries
  out += '\0';
  out += '\0';
  auto palette = make_palette();
  out.append(reinterpret_cast<const char*>(palette.data()), palette.size());
  // loop forever (NETSCAPE2.0 application extension)
  out += std::string("\x21\xFF\x0BNETSCAPE2.0\x03\x01\x00\x00\x00", 19);

  const uint8_t* data = pixels.data_ptr<uint8_t>();
  size_t frame_pixels = static_cast<size_t>(width) * height;
  for (int64_t t = 0; t < pixels.size(0); ++t) {
    out += std::string("\x21\xF9\x04\x04", 4);  // graphic control: keep frame, no transparency
    put16(out, frame_delay_ms / 10);
    out += std::string("\x00\x00", 2);
    out += '\x2C';  // image descriptor
    put16(out, 0);
    put16(out, 0);
    put16(out, width);
    put16(out, height);
    out += '\0';
    std::vector<uint8_t> indices(frame_pixels);
    const uint8_t* frame = data + t * frame_pixels * 3;
    for (size_t p = 0; p < frame_pixels; ++p)
      indices[p] = nearest(frame[3 * p], frame[3 * p + 1], frame[3 * p + 2]);
    LzwEncoder(out).encode(indices);
  }
  out += '\x3B';
  io::write_file_atomic(file, out);
}

}  // namespace wm
