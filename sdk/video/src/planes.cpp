// Packed RGB24 rows -> the planes of a uint8 [3, H, W] tensor. swscale's planar RGB output
// (GBRP) interpolates chroma differently from its RGB24 output, so frames would no longer equal
// the ffmpeg tool's; the reader converts to RGB24 and splits the channels here instead.
// Built with -O3 (see sdk/CMakeLists.txt): the stride-3 loads vectorise with byte shuffles, which
// x86-64's baseline SSE2 lacks, hence an AVX2 clone picked at load time where the CPU has it.
#include "ffmpeg.h"

namespace wm::video::detail {

namespace {

#if defined(__x86_64__) && defined(__GNUC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define WM_CPU_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef WM_CPU_CLONES
#define WM_CPU_CLONES
#endif

WM_CPU_CLONES
void split_row(const uint8_t* __restrict rgb, uint8_t* __restrict r, uint8_t* __restrict g,
               uint8_t* __restrict b, int64_t width) {
  for (int64_t x = 0; x < width; ++x) {
    r[x] = rgb[3 * x];
    g[x] = rgb[3 * x + 1];
    b[x] = rgb[3 * x + 2];
  }
}

}  // namespace

void rgb24_to_planes(const uint8_t* rgb, int64_t linesize, int64_t width, int64_t height,
                     uint8_t* planes) {
  int64_t plane = width * height;
  for (int64_t y = 0; y < height; ++y) {
    uint8_t* r = planes + y * width;
    split_row(rgb + y * linesize, r, r + plane, r + 2 * plane, width);
  }
}

}  // namespace wm::video::detail
