// Formats: Middlebury flow (Baker et al. 2011, flow-code/README.txt) and the KITTI 2015 devkit
// (devkit/cpp/io_flow.h). PNG goes through libpng when the SDK was built with it; samples are
// big-endian in the file.
#include "wm/flow_file.h"

#include <ATen/ATen.h>
#ifdef WM_HAVE_PNG
#include <png.h>
#endif

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "wm/error.h"
#include "wm/sample.h"

namespace wm::io {
namespace {

constexpr float kFloMagic = 202021.25f;
constexpr float kFloUnknown = 1e10f;

// [2, H, W] float32 on the CPU, checked, plus a [H, W] bool mask (all true when undefined)
std::pair<at::Tensor, at::Tensor> checked(const at::Tensor& flow, const at::Tensor& valid,
                                          const std::filesystem::path& file) {
  if (flow.dim() != 3 || flow.size(0) != 2)
    throw Error("flow for " + file.string() + " must be [2, H, W], got " + describe_tensor(flow));
  auto mask = valid.defined() ? valid.to(at::kBool).cpu().contiguous()
                              : at::ones({flow.size(1), flow.size(2)}, at::kBool);
  if (!mask.sizes().equals({flow.size(1), flow.size(2)}))
    throw Error("valid mask " + describe_tensor(valid) + " does not match flow " +
                describe_tensor(flow) + " for " + file.string());
  return {flow.to(at::kFloat).cpu().contiguous(), mask};
}

#ifdef WM_HAVE_PNG
struct File {
  FILE* handle;
  File(const std::filesystem::path& path, const char* mode) : handle(std::fopen(path.c_str(), mode)) {
    if (!handle) throw Error("cannot open " + path.string() + (mode[0] == 'r' ? "" : " for writing"));
  }
  ~File() { std::fclose(handle); }
};

// the libpng calls, kept free of C++ objects with destructors across setjmp/longjmp
bool png_read_rows(FILE* handle, uint32_t* width, uint32_t* height, std::vector<uint16_t>* pixels,
                   char* message) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return std::strcpy(message, "out of memory"), false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return std::strcpy(message, "not a readable PNG"), false;
  }
  png_init_io(png, handle);
  png_read_info(png, info);
  int depth = png_get_bit_depth(png, info), color = png_get_color_type(png, info);
  if (depth != 16 || color != PNG_COLOR_TYPE_RGB) {
    std::snprintf(message, 200, "a %d-bit PNG of colour type %d, not 16-bit RGB", depth, color);
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_swap(png);  // big-endian samples -> host order
  *width = png_get_image_width(png, info), *height = png_get_image_height(png, info);
  pixels->resize(size_t(*width) * *height * 3);
  for (png_uint_32 y = 0; y < *height; ++y)
    png_read_row(png, reinterpret_cast<png_bytep>(pixels->data() + size_t(y) * *width * 3), nullptr);
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

bool png_write_rows(FILE* handle, uint32_t width, uint32_t height, const uint16_t* pixels) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_init_io(png, handle);
  png_set_IHDR(png, info, width, height, 16, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_set_swap(png);
  for (png_uint_32 y = 0; y < height; ++y)
    png_write_row(png, reinterpret_cast<png_const_bytep>(pixels + size_t(y) * width * 3));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

// 16-bit RGB pixels of a PNG file; false with `message` when it is not such a file
bool read_png16(const std::filesystem::path& file, uint32_t* width, uint32_t* height,
                std::vector<uint16_t>* pixels, char* message) {
  File in(file, "rb");
  return png_read_rows(in.handle, width, height, pixels, message);
}

bool write_png16(const std::filesystem::path& file, uint32_t width, uint32_t height,
                 const uint16_t* pixels) {
  File out(file, "wb");
  return png_write_rows(out.handle, width, height, pixels);
}
#else
// a build without libpng says so before it touches the file
[[noreturn]] void no_libpng(const std::filesystem::path& file) {
  throw Error(file.string() + ": KITTI .png flow files need libpng, which this build of wmsdk "
              "lacks (install libpng-dev, then rebuild)");
}
bool read_png16(const std::filesystem::path& file, uint32_t*, uint32_t*, std::vector<uint16_t>*, char*) {
  no_libpng(file);
}
bool write_png16(const std::filesystem::path& file, uint32_t, uint32_t, const uint16_t*) {
  no_libpng(file);
}
#endif

}  // namespace

//---- .flo ----

FlowField read_flo(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error("cannot open " + file.string());
  float magic = 0;
  int32_t width = 0, height = 0;
  in.read(reinterpret_cast<char*>(&magic), 4);
  in.read(reinterpret_cast<char*>(&width), 4);
  in.read(reinterpret_cast<char*>(&height), 4);
  if (!in || magic != kFloMagic)
    throw Error(file.string() + " is not a Middlebury .flo file (no PIEH magic)");
  if (width <= 0 || height <= 0 || int64_t(width) * height > (int64_t(1) << 28))
    throw Error(file.string() + ": implausible size " + std::to_string(width) + "x" +
                std::to_string(height));
  // row-major (u, v) pairs: [H, W, 2] -> [2, H, W]
  auto pairs = at::empty({height, width, 2}, at::kFloat);
  in.read(static_cast<char*>(pairs.data_ptr()), pairs.numel() * sizeof(float));
  if (!in) throw Error(file.string() + " is truncated");
  auto flow = pairs.permute({2, 0, 1}).contiguous();
  auto valid = (flow.abs() <= 1e9).all(0);
  return {flow.masked_fill(valid.logical_not(), 0), valid};
}

void write_flo(const std::filesystem::path& file, const at::Tensor& flow, const at::Tensor& valid) {
  auto [values, mask] = checked(flow, valid, file);
  auto pairs = values.masked_fill(mask.logical_not(), kFloUnknown).permute({1, 2, 0}).contiguous();
  int32_t size[2] = {static_cast<int32_t>(values.size(2)), static_cast<int32_t>(values.size(1))};
  std::ofstream out(file, std::ios::binary);
  if (!out) throw Error("cannot open " + file.string() + " for writing");
  out.write(reinterpret_cast<const char*>(&kFloMagic), 4);
  out.write(reinterpret_cast<const char*>(size), 8);
  out.write(static_cast<const char*>(pairs.data_ptr()), pairs.numel() * sizeof(float));
  if (!out) throw Error("could not write " + file.string());
}

//---- KITTI PNG ----

FlowField read_kitti_png(const std::filesystem::path& file) {
  uint32_t width = 0, height = 0;
  std::vector<uint16_t> pixels;
  char message[256] = "";
  if (!read_png16(file, &width, &height, &pixels, message))
    throw Error(file.string() + " is " + message + " (KITTI flow is 16-bit RGB)");
  // [H, W, 3] uint16 -> flow [2, H, W] = (raw - 2^15) / 64, valid = third channel
  std::vector<float> values(pixels.begin(), pixels.end());
  auto channels = at::from_blob(values.data(), {int64_t(height), int64_t(width), 3}, at::kFloat)
                      .permute({2, 0, 1})
                      .clone();
  auto valid = channels[2] > 0;
  auto flow = ((channels.slice(0, 0, 2) - 32768.0f) / 64.0f).masked_fill(valid.logical_not(), 0);
  return {flow, valid};
}

void write_kitti_png(const std::filesystem::path& file, const at::Tensor& flow, const at::Tensor& valid) {
  auto [values, mask] = checked(flow, valid, file);
  auto encoded = (values * 64.0f + 32768.0f).round().clamp(0, 65535).masked_fill(mask.logical_not(), 32768);
  // [2, H, W] + mask -> [H, W, 3] uint16 in (u, v, valid) order
  auto channels = at::cat({encoded, mask.unsqueeze(0).to(at::kFloat)}).permute({1, 2, 0}).contiguous();
  auto samples = channels.to(at::kInt).contiguous();
  std::vector<uint16_t> pixels(samples.data_ptr<int32_t>(), samples.data_ptr<int32_t>() + samples.numel());
  if (!write_png16(file, values.size(2), values.size(1), pixels.data()))
    throw Error("could not write " + file.string());
}

//---- by extension ----

FlowField read_flow(const std::filesystem::path& file) {
  auto extension = file.extension().string();
  if (extension == ".flo") return read_flo(file);
  if (extension == ".png") return read_kitti_png(file);
  throw Error(file.string() + ": unknown flow format (use .flo or a KITTI .png)");
}

void write_flow(const std::filesystem::path& file, const at::Tensor& flow, const at::Tensor& valid) {
  auto extension = file.extension().string();
  if (extension == ".flo") return write_flo(file, flow, valid);
  if (extension == ".png") return write_kitti_png(file, flow, valid);
  throw Error(file.string() + ": unknown flow format (use .flo or a KITTI .png)");
}

}  // namespace wm::io
