// GIF previews decode in an independent reader (Pillow, with Debian's python3) to what was drawn.
#include <ATen/ATen.h>

#include <fstream>

#include "test_support.h"
#include "report/gif_writer.h"

namespace wm {
namespace {

TEST(GifWriter, DecodesToTheFramesWithinThePaletteStep) {
  test::TempDir dir;
  // three frames of smooth gradients and flat colours, large enough for LZW table resets
  auto frames = at::zeros({3, 3, 96, 160}, at::kFloat);
  frames.select(1, 0).copy_(at::linspace(0, 1, 160).expand({3, 96, 160}));
  frames.select(1, 1).copy_(at::linspace(0, 1, 96).unsqueeze(1).expand({3, 96, 160}));
  frames[1].fill_(24.0 / 255);
  write_gif(dir.path() / "preview.gif", frames, 100);
  std::string reference = test::run_python(dir, R"py(
import sys
from PIL import Image
image = Image.open(sys.argv[1] + '/preview.gif')
print(image.size[0], image.size[1], image.n_frames)
for index in range(image.n_frames):
    image.seek(index)
    rgb = image.convert('RGB')
    with open(sys.argv[1] + '/frame%d.raw' % index, 'wb') as out:
        out.write(rgb.tobytes())
)py");
  EXPECT_EQ(reference, "160 96 3\n");
  for (int index = 0; index < 3; ++index) {
    std::ifstream in(dir.path() / ("frame" + std::to_string(index) + ".raw"), std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
    ASSERT_EQ(bytes.size(), 160u * 96 * 3);
    auto decoded = at::from_blob(bytes.data(), {96, 160, 3}, at::kByte).to(at::kFloat).permute({2, 0, 1}) / 255;
    // the 6x6x6 cube is 51 levels apart: nearest colour within half a step per channel
    EXPECT_LE((decoded - frames[index]).abs().max().item<double>(), 26.0 / 255) << index;
  }
  // a dark grey background stays grey (the cube alone would tint it)
  std::ifstream in(dir.path() / "frame1.raw", std::ios::binary);
  unsigned char pixel[3];
  in.read(reinterpret_cast<char*>(pixel), 3);
  EXPECT_EQ(pixel[0], pixel[1]);
  EXPECT_EQ(pixel[1], pixel[2]);
}

}  // namespace
}  // namespace wm
