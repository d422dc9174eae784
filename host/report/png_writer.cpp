#include "report/png_writer.h"

#include <ATen/ATen.h>
#include <zlib.h>

#include "wm/error.h"

namespace wm {

namespace {

void put_big_endian(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((value >> shift) & 0xFF);
}

// one chunk: length, type, data, CRC-32 of type and data (zlib's crc32 is PNG's)
void put_chunk(std::string& out, const char* type, const std::string& data) {
  put_big_endian(out, static_cast<uint32_t>(data.size()));
  std::string body = std::string(type, 4) + data;
  out += body;
  put_big_endian(out, static_cast<uint32_t>(
                          crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}

}  // namespace

std::string encode_png(const at::Tensor& image) {
  if (image.dim() != 3 || image.size(0) != 3)
    throw Error("encode_png: expected an image [3, H, W], got " + std::to_string(image.dim()) + " dims");
  at::Tensor pixels = image.scalar_type() == at::kByte
                          ? image.detach().cpu()
                          : image.detach().cpu().to(at::kFloat).clamp(0, 1).mul(255).round().to(at::kByte);
  pixels = pixels.permute({1, 2, 0}).contiguous();  // [H, W, 3], rows of RGB triples
  const int64_t height = pixels.size(0), width = pixels.size(1);
  if (height == 0 || width == 0) throw Error("encode_png: the image is empty");

  // scanlines, each with filter type 1 (Sub: the difference to the pixel on the left)
  const auto* rgb = pixels.data_ptr<uint8_t>();
  std::string raw;
  raw.reserve(static_cast<size_t>(height * (1 + 3 * width)));
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t* row = rgb + y * 3 * width;
    raw += static_cast<char>(1);
    for (int64_t x = 0; x < 3 * width; ++x)
      raw += static_cast<char>(static_cast<uint8_t>(row[x] - (x >= 3 ? row[x - 3] : 0)));
  }
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(packed_size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
                reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()), 6) != Z_OK)
    throw Error("encode_png: zlib could not compress the image");
  packed.resize(packed_size);

  // signature, IHDR (8-bit truecolour, no interlace), IDAT, IEND
  std::string png = "\x89PNG\r\n\x1a\n";
  std::string header;
  put_big_endian(header, static_cast<uint32_t>(width));
  put_big_endian(header, static_cast<uint32_t>(height));
  header += std::string("\x08\x02\x00\x00\x00", 5);
  put_chunk(png, "IHDR", header);
  put_chunk(png, "IDAT", packed);
  put_chunk(png, "IEND", "");
  return png;
}

}  // namespace wm
