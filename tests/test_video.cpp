// wm::video: decoding equals the ffmpeg tool's output, seeking and frame selection are right,
// every container opens, writing round-trips, and bad files are DataErrors. Fixtures are made
// here: by wm::video::write (frames that carry their index as a bit pattern) and by the ffmpeg
// tool's test source.
#include <ATen/ATen.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <random>

#include "test_support.h"
#include "wm/error.h"
#include "wm/video/video.h"

namespace wm::video {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr int64_t kWidth = 96, kHeight = 64, kFrames = 24;
constexpr double kFps = 12;

// frame i: its index in 8 black/white blocks across the top (bit 7 first), a moving gradient below
at::Tensor counter_frames(int64_t count = kFrames) {
  auto frames = at::zeros({count, 3, kHeight, kWidth}, at::kByte);
  auto x = at::arange(kWidth).view({1, kWidth});
  auto y = at::arange(kHeight - 16).view({kHeight - 16, 1});
  for (int64_t i = 0; i < count; ++i) {
    for (int bit = 0; bit < 8; ++bit)
      if ((i >> (7 - bit)) & 1) frames[i].slice(1, 0, 16).slice(2, bit * 12, bit * 12 + 12).fill_(255);
    frames[i].slice(1, 16).copy_(((x * 2 + y + i * 4) % 256).to(at::kByte).unsqueeze(0).expand({3, -1, -1}));
  }
  return frames;
}

// the indices the frames carry (blocks read at their centres)
std::vector<int64_t> counters(const at::Tensor& frames) {
  std::vector<int64_t> indices;
  auto grey = frames.to(at::kFloat).mean(1);  // [T, H, W]
  for (int64_t t = 0; t < frames.size(0); ++t) {
    int64_t value = 0;
    for (int bit = 0; bit < 8; ++bit)
      value = value * 2 + (grey[t][8][bit * 12 + 6].item<float>() > 128 ? 1 : 0);
    indices.push_back(value);
  }
  return indices;
}

// stdout of a shell command, as bytes; a failing command fails the test
std::string shell(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  char chunk[1 << 16];
  while (size_t n = std::fread(chunk, 1, sizeof chunk, pipe)) output.append(chunk, n);
  EXPECT_EQ(pclose(pipe), 0) << command;
  return output;
}

// what `ffmpeg -i file <filters> -pix_fmt rgb24 -f rawvideo -` prints, as uint8 [T, 3, H, W]
at::Tensor ffmpeg_frames(const fs::path& file, const std::string& filters, int64_t width, int64_t height) {
  std::string bytes = shell("ffmpeg -v error -nostdin -i " + file.string() + " " + filters +
                            " -fps_mode passthrough -pix_fmt rgb24 -f rawvideo -");
  int64_t frame_bytes = width * height * 3;
  EXPECT_EQ(static_cast<int64_t>(bytes.size()) % frame_bytes, 0);
  int64_t count = static_cast<int64_t>(bytes.size()) / frame_bytes;
  auto frames = at::empty({count, height, width, 3}, at::kByte);
  std::memcpy(frames.data_ptr(), bytes.data(), bytes.size());
  return frames.permute({0, 3, 1, 2}).contiguous();
}

// ffmpeg's test pattern, H.264 with B-frames and a keyframe every `gop` frames
fs::path test_pattern(const test::TempDir& dir, const std::string& name, const std::string& codec,
                      int gop = 12) {
  auto file = dir.path() / name;
  shell("ffmpeg -v error -nostdin -y -f lavfi -i testsrc2=size=160x120:rate=25:duration=4 -c:v " +
        codec + " -g " + std::to_string(gop) + " -pix_fmt yuv420p " + file.string());
  return file;
}

std::string read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int64_t max_difference(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kInt) - b.to(at::kInt)).abs().max().item<int64_t>();
}

//---- the ffmpeg tool's frames ----

TEST(VideoReader, MatchesFfmpegToolAtNativeSize) {
  test::TempDir dir;
  auto file = test_pattern(dir, "pattern.mp4", "libx264");
  Reader reader(file);
  auto ours = reader.read_all();
  auto theirs = ffmpeg_frames(file, "-vf scale=160:120:flags=bilinear", 160, 120);
  ASSERT_EQ(ours.sizes(), theirs.sizes());
  EXPECT_EQ(ours.size(0), 100);
  EXPECT_TRUE(ours.equal(theirs)) << "max difference " << max_difference(ours, theirs);
  // without a filter the tool converts with its default scaler, bicubic
  auto plain = ffmpeg_frames(file, "", 160, 120);
  auto bicubic = reader.read_all(0, 0, "bicubic");
  EXPECT_TRUE(bicubic.equal(plain)) << "max difference " << max_difference(bicubic, plain);
}

TEST(VideoReader, MatchesFfmpegToolWhenResizing) {
  test::TempDir dir;
  auto file = test_pattern(dir, "pattern.webm", "libvpx-vp9 -deadline realtime -cpu-used 8");
  Reader reader(file);
  for (std::string scaler : {"bilinear", "area", "bicubic", "neighbor", "lanczos", "fast_bilinear"}) {
    auto ours = reader.read_all(96, 72, scaler);
    auto theirs = ffmpeg_frames(file, "-vf scale=96:72:flags=" + scaler, 96, 72);
    ASSERT_EQ(ours.sizes(), theirs.sizes()) << scaler;
    EXPECT_TRUE(ours.equal(theirs)) << scaler << ": max difference " << max_difference(ours, theirs);
  }
  // an odd width: the channel split's vector loop ends in a partial block
  auto odd = reader.read_all(75, 0);
  auto odd_tool = ffmpeg_frames(file, "-vf scale=75:56:flags=bilinear", 75, 56);
  ASSERT_EQ(odd.sizes(), odd_tool.sizes());
  EXPECT_TRUE(odd.equal(odd_tool)) << "max difference " << max_difference(odd, odd_tool);
  // a clip is resized the same way
  ClipRequest request;
  request.start = 1.0;
  request.frames = 4;
  request.width = 96;
  request.height = 72;
  auto all = ffmpeg_frames(file, "-vf scale=96:72:flags=bilinear", 96, 72);
  EXPECT_TRUE(reader.read_clip(request).equal(all.slice(0, 25, 29)));
}

//---- seeking and frame selection ----

TEST(VideoReader, SeekingGivesTheFramesOfAFullDecode) {
  test::TempDir dir;
  for (std::string name : {"pattern.mp4", "pattern.mkv"}) {
    auto file = test_pattern(dir, name, "libx264", 10);
    Reader reader(file);
    auto all = reader.read_all();
    auto times = reader.last_times();
    for (double start : {0.0, 0.04, 0.5, 1.24, 1.99, 2.6, 3.5}) {
      ClipRequest request;
      request.start = start;
      request.frames = 6;
      auto clip = reader.read_clip(request);
      int64_t first = std::lround(std::ceil(start * 25 - 1e-6));
      EXPECT_TRUE(clip.equal(all.slice(0, first, first + 6))) << name << " start " << start;
      EXPECT_NEAR(reader.last_times()[0], times[first], 1e-9) << name << " start " << start;
      // every other frame (B-frames included) from the same start
      request.stride = 2;
      auto strided = reader.read_clip(request);
      int64_t last = std::min<int64_t>(first + 10, all.size(0) - 1);
      EXPECT_TRUE(strided.slice(0, 0, (last - first) / 2 + 1).equal(all.slice(0, first, last + 1, 2)))
          << name << " start " << start << " stride 2";
    }
  }
}

// Clips skip the frames they drop when no other frame refers to them (H.264's non-reference
// B-frames) and jump over groups of pictures no kept frame needs, deciding from packet times
// before decoding: each clip must still hold exactly the frames a full decode has at the planned
// places, for strides and resampling rates alike.
TEST(VideoReader, ClipsThatSkipFramesHoldTheFramesOfAFullDecode) {
  test::TempDir dir;
  for (std::string name : {"pattern.mp4", "pattern.webm"}) {
    auto file = test_pattern(dir, name, name == "pattern.mp4" ? "libx264 -bf 3 -b_strategy 0" : "libvpx-vp9", 20);
    Reader reader(file, 1);
    const auto all = reader.read_all();
    const std::vector<double> times = reader.last_times();
    const auto count = static_cast<int64_t>(times.size());
    std::mt19937 random(11);
    for (int trial = 0; trial < 36; ++trial) {
      ClipRequest request;
      request.frames = 1 + trial % 7;
      request.start = std::uniform_real_distribution<double>(0, 3.0)(random);
      // the last 12 are sparse (1.2-3 s between the first and last frames of 4): they jump
      // over groups of pictures (a keyframe every 0.8 s)
      bool sparse = trial >= 24;
      if (sparse) {
        request.frames = 4;
        request.start = std::uniform_real_distribution<double>(0, 0.8)(random);
      }
      std::vector<int64_t> expected;
      if (trial % 3 == 2) {
        request.fps = sparse ? std::vector<double>{1, 1.5, 2.5}[trial % 9 / 3]
                             : std::vector<double>{7, 12.5, 40}[trial % 9 / 3];
        for (int64_t k = 0; k < request.frames; ++k) {  // the nearest frame; ties: the earlier
          double target = request.start + k / request.fps;
          int64_t after = std::lower_bound(times.begin(), times.end(), target - 1e-6) - times.begin();
          if (after == count || (after > 0 && target - times[after - 1] <= times[after] - target)) --after;
          expected.push_back(after);
        }
      } else {
        request.stride = sparse ? 10 + 3 * (trial % 4) : 1 + trial % 4;
        int64_t first = std::lower_bound(times.begin(), times.end(), request.start - 1e-6) - times.begin();
        for (int64_t k = 0; k < request.frames; ++k) expected.push_back(std::min(first + k * request.stride, count - 1));
      }
      auto clip = reader.read_clip(request);
      for (int64_t k = 0; k < request.frames; ++k)
        EXPECT_TRUE(clip[k].equal(all[expected[k]]))
            << name << " start " << request.start << " stride " << request.stride << " fps " << request.fps
            << ": frame " << k << " should be frame " << expected[k];
    }
  }
}

TEST(VideoReader, StrideKeepsEveryKthFrameFromStart) {
  test::TempDir dir;
  auto file = dir.path() / "counter.mp4";
  write(file, counter_frames(), {kFps});
  Reader reader(file);
  ClipRequest request;
  request.frames = 5;
  request.stride = 3;
  request.start = 0.5;  // frame 6
  auto clip = reader.read_clip(request);
  EXPECT_EQ(counters(clip), (std::vector<int64_t>{6, 9, 12, 15, 18}));
  EXPECT_NEAR(reader.last_times()[1], 9 / kFps, 1e-6);
}

TEST(VideoReader, TargetFpsTakesTheNearestFrame) {
  test::TempDir dir;
  auto file = dir.path() / "counter.webm";
  write(file, counter_frames(), {kFps});
  Reader reader(file);
  ClipRequest request;
  request.fps = 5;  // times 0, 0.2, 0.4, ... = frames 0, 2.4, 4.8, 7.2, 9.6, 12
  request.frames = 6;
  EXPECT_EQ(counters(reader.read_clip(request)), (std::vector<int64_t>{0, 2, 5, 7, 10, 12}));
  request.fps = 30;  // faster than the video: frames repeat
  request.frames = 8;
  request.start = 1.0;  // frame 12
  EXPECT_EQ(counters(reader.read_clip(request)), (std::vector<int64_t>{12, 12, 13, 13, 14, 14, 14, 15}));
}

TEST(VideoReader, PadsPastTheEndWithTheLastFrameOrReports) {
  test::TempDir dir;
  auto file = dir.path() / "counter.mkv";
  write(file, counter_frames(), {kFps});
  Reader reader(file);
  ClipRequest request;
  request.start = 1.5;  // frame 18 of 0..23
  request.frames = 8;
  EXPECT_EQ(counters(reader.read_clip(request)), (std::vector<int64_t>{18, 19, 20, 21, 22, 23, 23, 23}));
  request.start = 5.0;  // after the end: the last frame throughout
  EXPECT_EQ(counters(reader.read_clip(request)), std::vector<int64_t>(8, 23));
  request.pad = false;
  try {
    reader.read_clip(request);
    FAIL() << "expected a DataError";
  } catch (const DataError& error) {
    EXPECT_THAT(error.what(), HasSubstr("past the end"));
    EXPECT_EQ(error.source(), file.string());
  }
}

//---- containers, info, writing ----

TEST(VideoReader, OpensEveryContainerTheWriterMakes) {
  test::TempDir dir;
  auto frames = counter_frames();
  std::vector<std::pair<std::string, std::string>> formats = {
      {"clip.mp4", "h264"}, {"clip.webm", "vp9"}, {"clip.mkv", "h264"}, {"clip.avi", "mpeg4"}};
  for (const auto& [name, codec] : formats) {
    write(dir.path() / name, frames, {kFps});
    Reader reader(dir.path() / name);
    const Info& info = reader.info();
    EXPECT_EQ(info.codec, codec) << name;
    EXPECT_EQ(info.width, kWidth) << name;
    EXPECT_EQ(info.height, kHeight) << name;
    EXPECT_NEAR(info.fps, kFps, 1e-6) << name;
    EXPECT_NEAR(info.duration, kFrames / kFps, 0.1) << name;
    EXPECT_EQ(info.frame_count, kFrames) << name;
    auto decoded = reader.read_all();
    ASSERT_EQ(decoded.size(0), kFrames) << name;
    std::vector<int64_t> expected(kFrames);
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(counters(decoded), expected) << name;
    // lossy, but close: mean error of a few grey levels
    double error = (decoded.to(at::kFloat) - frames.to(at::kFloat)).abs().mean().item<double>();
    EXPECT_LT(error, 4.0) << name;
  }
}

TEST(VideoWriter, PadsOddSizesToEven) {
  test::TempDir dir;
  auto frames = at::rand({3, 3, 17, 33}, at::kFloat);
  write(dir.path() / "odd.mp4", frames);
  Reader reader(dir.path() / "odd.mp4");
  EXPECT_EQ(reader.info().width, 34);
  EXPECT_EQ(reader.info().height, 18);
}

TEST(VideoWriter, SideBySidePutsPredictionLeftAndTruthRight) {
  test::TempDir dir;
  auto prediction = at::zeros({4, 3, 32, 32});
  auto truth = at::ones({4, 3, 32, 32});
  write_side_by_side(dir.path() / "preview.mp4", prediction, truth, {4});
  auto frames = Reader(dir.path() / "preview.mp4").read_all().to(at::kFloat);
  ASSERT_EQ(frames.sizes(), (at::IntArrayRef{4, 3, 32, 66}));
  EXPECT_LT(frames.slice(3, 0, 28).mean().item<double>(), 8);
  EXPECT_GT(frames.slice(3, 38).mean().item<double>(), 247);
  EXPECT_THROW(write_side_by_side(dir.path() / "bad.mp4", prediction, truth.slice(0, 0, 3)), Error);
}

TEST(VideoWriter, FailedWriteLeavesNoFile) {
  test::TempDir dir;
  WriteOptions options;
  options.preset = "warp";
  try {
    write(dir.path() / "clip.mp4", counter_frames(2), options);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("unknown video preset 'warp'"));
  }
  EXPECT_THROW(write(dir.path() / "clip.gifv", counter_frames(2)), Error);
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(VideoWriter, EvaluateWritesASideBySidePreviewVideo) {
  test::TempDir dir;
  dir.write("exp.yaml", R"(experiment: preview
data:
  val: {plugin: synthetic, split: val, params: {samples: 40, frames: 4, size: 16}}
model: {plugin: copy_last}
metrics: [{plugin: psnr}]
procedure:
  - evaluate: {data: val, batch_size: 4, max_batches: 1, preview: 2}
)");
  shell("cd " + dir.path().string() + " && " + WM_TEST_WMHOST + " run exp.yaml --out run > /dev/null 2>&1");
  ASSERT_TRUE(fs::exists(dir.path() / "run" / "preview_val.gif"));
  Reader reader(dir.path() / "run" / "preview_val.mp4");
  // 2 clips of 16 px enlarged 8 times, stacked; prediction | 2 px bar | truth
  EXPECT_EQ(reader.info().height, 2 * 128);
  EXPECT_EQ(reader.info().width, 128 + 2 + 128);
  EXPECT_EQ(reader.info().frame_count, 3);  // the predicted frames 1..3
}

//---- memory, threads ----

TEST(VideoReader, FromBytesDecodesLikeTheFile) {
  test::TempDir dir;
  auto file = test_pattern(dir, "pattern.mp4", "libx264");
  Reader from_file(file);
  Reader from_memory = Reader::from_bytes(read_bytes(file), "shard.tar/pattern.mp4");
  EXPECT_EQ(from_memory.info().frame_count, from_file.info().frame_count);
  EXPECT_TRUE(from_memory.read_all().equal(from_file.read_all()));
  ClipRequest request;
  request.start = 2.2;
  request.stride = 2;
  EXPECT_TRUE(from_memory.read_clip(request).equal(from_file.read_clip(request)));
}

TEST(VideoReader, OneThreadDecodesLikeMany) {
  test::TempDir dir;
  auto file = test_pattern(dir, "pattern.mp4", "libx264");
  EXPECT_TRUE(Reader(file, 1).read_all().equal(Reader(file, 0).read_all()));
}

//---- bad files ----

// the DataError a reader of `file` throws when opened and read through
std::string data_error(const fs::path& file) {
  try {
    Reader reader(file);
    reader.read_all();
    ClipRequest request;
    request.start = reader.info().duration * 0.9;
    reader.read_clip(request);
  } catch (const DataError& error) {
    EXPECT_EQ(error.source(), file.string());
    return error.what();
  }
  ADD_FAILURE() << "no DataError for " << file;
  return "";
}

TEST(VideoReader, MissingFileIsADataError) {
  test::TempDir dir;
  EXPECT_THAT(data_error(dir.path() / "absent.mp4"), HasSubstr("no such file"));
}

TEST(VideoReader, RandomBytesAreADataError) {
  test::TempDir dir;
  std::mt19937 random(7);
  std::string noise(20000, '\0');
  for (char& c : noise) c = static_cast<char>(random());
  for (std::string name : {"noise.mp4", "noise.webm", "noise.avi"}) {
    std::ofstream(dir.path() / name, std::ios::binary) << noise;
    EXPECT_THAT(data_error(dir.path() / name), HasSubstr("cannot open"));
  }
  EXPECT_THROW(Reader::from_bytes(noise, "shard.tar/noise.mp4"), DataError);
}

TEST(VideoReader, TruncatedFilesAreDataErrors) {
  test::TempDir dir;
  // index at the end (the writer's mp4), at the front (faststart), and a webm
  write(dir.path() / "tail.mp4", counter_frames(), {kFps});
  auto pattern = test_pattern(dir, "front.mp4", "libx264 -movflags +faststart");
  auto webm = test_pattern(dir, "pattern.webm", "libvpx-vp9 -deadline realtime -cpu-used 8");
  for (const auto& file : {dir.path() / "tail.mp4", pattern, webm}) {
    std::string bytes = read_bytes(file);
    auto cut = dir.path() / ("cut_" + file.filename().string());
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() * 6 / 10);
    EXPECT_FALSE(data_error(cut).empty()) << file;
  }
}

}  // namespace
}  // namespace wm::video
