#include <torch/torch.h>

#include <cstdio>
#include <filesystem>

#include "test_support.h"
#include "wm/flow_file.h"

namespace wm {
namespace {

using test::run_python;

// An independent codec for both formats, from their specifications: numpy for .flo, zlib and a
// PNG unfilter for KITTI. It checks what C++ wrote and writes files for C++ to read.
constexpr const char* kOtherSide = R"py(
import struct, sys, zlib, numpy as np
folder = sys.argv[1]

def read_png16(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert (depth, color) == (16, 2)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, bpp, stride = zlib.decompress(idat), 6, width * 6
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1: line[i] = (line[i] + a) & 255
            elif kind == 2: line[i] = (line[i] + b) & 255
            elif kind == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line)); previous = line
    return np.frombuffer(b"".join(rows), dtype=">u2").reshape(height, width, 3)

def write_png16(path, pixels):   # filter 2 ("Up") on every row after the first
    height, width, _ = pixels.shape
    raw, previous = b"", bytes(width * 6)
    for y in range(height):
        line = pixels[y].astype(">u2").tobytes()
        kind = 0 if y == 0 else 2
        body = line if kind == 0 else bytes((x - p) & 255 for x, p in zip(line, previous))
        raw += bytes([kind]) + body; previous = line
    chunk = lambda kind, body: struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

# what C++ wrote: flow u = x + y / 4 - 3, v = -y / 8 + 0.5 on 5x7, pixel (1, 2) unknown
u = np.arange(7)[None, :] + np.arange(5)[:, None] / 4 - 3
v = -np.arange(5)[:, None] / 8 + 0.5 + 0 * u
flo = np.fromfile(folder + "/cpp.flo", dtype="<f4")
assert flo[0] == 202021.25 and flo[1:3].view("<i4").tolist() == [7, 5]
pairs = flo[3:].reshape(5, 7, 2)
assert pairs[1, 2, 0] > 1e9 and pairs[1, 2, 1] > 1e9
pairs[1, 2] = (u[1, 2], v[1, 2])
assert np.array_equal(pairs, np.stack([u, v], -1).astype("<f4"))
png = read_png16(folder + "/cpp.png").astype(np.int64)
assert png[1, 2, 2] == 0 and png[0, 0, 2] == 1
mask = png[..., 2] == 1
assert np.array_equal(png[..., 0][mask], np.round(u * 64 + 32768)[mask])
assert np.array_equal(png[..., 1][mask], np.round(v * 64 + 32768)[mask])

# for C++ to read: the same field, transposed in meaning (u <-> v), pixel (3, 4) unknown
out = np.stack([v, u], -1).astype("<f4"); out[3, 4] = 1e10
open(folder + "/py.flo", "wb").write(struct.pack("<fii", 202021.25, 7, 5) + out.tobytes())
pixels = np.stack([np.round(v * 64 + 32768), np.round(u * 64 + 32768), np.ones_like(u)], -1)
pixels[3, 4, 2] = 0
write_png16(folder + "/py.png", pixels.astype(np.int64))
print("ok")
)py";

#ifdef WM_SDK_WITHOUT_PNG
constexpr bool kSdkHasPng = false;
#else
constexpr bool kSdkHasPng = true;
#endif

torch::Tensor example_flow() {
  auto x = torch::arange(7, torch::kFloat32).view({1, 7}).expand({5, 7});
  auto y = torch::arange(5, torch::kFloat32).view({5, 1}).expand({5, 7});
  return torch::stack({x + y / 4 - 3, -y / 8 + 0.5});
}

TEST(FlowFile, BothFormatsAgreeWithAnIndependentCodecBothWays) {
  if (!kSdkHasPng) GTEST_SKIP() << "wmsdk was built without libpng";
  test::TempDir dir;
  auto flow = example_flow();
  auto valid = torch::ones({5, 7}, torch::kBool);
  valid.index_put_({1, 2}, false);
  io::write_flow(dir.path() / "cpp.flo", flow, valid);
  io::write_flow(dir.path() / "cpp.png", flow, valid);
  EXPECT_EQ(run_python(dir, kOtherSide), "ok\n");

  auto swapped = flow.flip(0);
  auto expected_valid = torch::ones({5, 7}, torch::kBool);
  expected_valid.index_put_({3, 4}, false);
  for (std::string name : {"py.flo", "py.png"}) {
    auto field = io::read_flow(dir.path() / name);
    EXPECT_TRUE(field.valid.equal(expected_valid)) << name;
    auto known = expected_valid.unsqueeze(0).expand({2, 5, 7});
    EXPECT_TRUE(torch::allclose(field.flow.masked_select(known), swapped.masked_select(known), 0,
                                name == "py.png" ? 1.0 / 128 : 0))
        << name;
  }
}

TEST(FlowFile, RoundTripsKeepValuesAndMasks) {
  if (!kSdkHasPng) GTEST_SKIP() << "wmsdk was built without libpng";
  test::TempDir dir;
  torch::manual_seed(11);
  auto flow = torch::randn({2, 6, 9}) * 20;
  auto valid = torch::rand({6, 9}) > 0.2;
  io::write_flo(dir.path() / "a.flo", flow, valid);
  auto flo = io::read_flo(dir.path() / "a.flo");
  EXPECT_TRUE(flo.valid.equal(valid));
  EXPECT_TRUE(flo.flow.equal(flow.masked_fill(valid.logical_not(), 0)));
  io::write_kitti_png(dir.path() / "a.png", flow, valid);
  auto png = io::read_kitti_png(dir.path() / "a.png");
  EXPECT_TRUE(png.valid.equal(valid));
  // KITTI stores flow * 64 as integers: within half a step of the truth (float and double may
  // round a value sitting on a half step differently), and zero where invalid
  auto error = (png.flow - flow).abs().masked_select(valid.unsqueeze(0).expand({2, 6, 9}));
  EXPECT_LE(error.max().item<double>(), 0.5 / 64 + 1e-5);
  EXPECT_TRUE(png.flow.masked_select(valid.logical_not().unsqueeze(0).expand({2, 6, 9})).eq(0).all().item<bool>());
}

TEST(FlowFile, WrongFilesAreNamed) {
  test::TempDir dir;
  auto text = dir.write("not.flo", "hello, this is not flow");
  EXPECT_THAT(test::error_of([&] { io::read_flow(text); }), ::testing::HasSubstr("no PIEH magic"));
  auto png = dir.write("not.png", "\x89PNG but broken");
  EXPECT_THAT(test::error_of([&] { io::read_flow(png); }),
              ::testing::HasSubstr(kSdkHasPng ? "not a readable PNG" : "install libpng-dev"));
  EXPECT_THAT(test::error_of([&] { io::read_flow(dir.path() / "x.exr"); }),
              ::testing::HasSubstr("use .flo or a KITTI .png"));
  EXPECT_THAT(test::error_of([&] { io::write_flow(dir.path() / "x.flo", torch::zeros({3, 4, 4})); }),
              ::testing::HasSubstr("must be [2, H, W]"));
}

}  // namespace
}  // namespace wm
