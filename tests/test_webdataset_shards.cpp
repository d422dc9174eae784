// Shard lists from braces and globs, samples grouped by key inside a shard, and the per-frame
// record conventions that turn .jsonl members into actions.
#include <ATen/ATen.h>

#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include "test_support.h"
#include "wm/error.h"
#include "wm/io/frame_records.h"
#include "wm/io/webdataset.h"

namespace wm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ShardPattern, ExpandsRangesWithPaddingAndLists) {
  EXPECT_THAT(io::expand_braces("shard-{000008..000011}.tar"),
              ElementsAre("shard-000008.tar", "shard-000009.tar", "shard-000010.tar",
                          "shard-000011.tar"));
  EXPECT_THAT(io::expand_braces("{a,b}/x{1..2}"), ElementsAre("a/x1", "a/x2", "b/x1", "b/x2"));
  EXPECT_THAT(io::expand_braces("plain.tar"), ElementsAre("plain.tar"));
  EXPECT_THAT(test::error_of([] { io::expand_braces("shard-{1..3.tar"); }), HasSubstr("unbalanced"));
}

TEST(ShardPattern, GlobsAndRangesFindFiles) {
  test::TempDir dir;
  for (const char* name : {"shard-000000.tar", "shard-000001.tar", "shard-000002.tar", "x.txt"})
    dir.write(name, "");
  auto root = dir.path().string();
  EXPECT_EQ(io::expand_shard_pattern(root + "/shard-*.tar").size(), 3u);
  EXPECT_EQ(io::expand_shard_pattern(root + "/shard-{000001..000002}.tar").back(),
            dir.path() / "shard-000002.tar");
  EXPECT_THAT(test::error_of([&] { io::expand_shard_pattern(root + "/none-*.tar"); }),
              HasSubstr("no shards match"));
  EXPECT_THAT(test::error_of([&] { io::expand_shard_pattern(root + "/shard-{000000..000004}.tar"); }),
              HasSubstr("2 shard(s) named by"));
}

TEST(ShardIndex, GroupsMembersByKeyPrefix) {
  test::TempDir dir;
  {
    io::TarWriter writer(dir.path() / "s.tar");
    writer.add("vid/clip0.mp4", "m0");
    writer.add("vid/clip0.jsonl", "j0");
    writer.add("vid/clip1.mp4", "m1");
    writer.add("vid/clip1.meta.json", "{}");
    writer.close();
  }
  auto samples = io::index_shard(dir.path() / "s.tar");
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].key, "vid/clip0");
  EXPECT_EQ(io::read_tar_member(samples[0].shard, *samples[0].find("jsonl")), "j0");
  EXPECT_NE(samples[1].find("meta.json"), nullptr);
  EXPECT_EQ(samples[1].find("jsonl"), nullptr);
  EXPECT_EQ(io::split_member_name("a.b/c.d.e"), std::make_pair(std::string("a.b/c"), std::string("d.e")));
}

// runs `body` in a forked child that is killed after `seconds`: a reader that loops forever fails
// the test instead of hanging it. The child's exit code: 0 when `body` threw wm::DataError
int data_error_within(int seconds, const std::function<void()>& body) {
  pid_t child = ::fork();
  if (child == 0) {
    ::alarm(static_cast<unsigned>(seconds));
    try {
      body();
    } catch (const DataError&) {
      ::_exit(0);
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(ShardIndex, SizeFieldThatWrapsEndsInADataErrorNotAnEndlessIndex) {
  test::TempDir dir;
  std::string bytes;
  {
    io::TarWriter writer(dir.path() / "s.tar");
    writer.add("clip0.jsonl", "{}");
    writer.add("clip1.jsonl", "{}");
    writer.close();
    bytes = test::read_text(dir.path() / "s.tar");
  }
  // clip1's size becomes 2^64 - 512 (base-256), checksum fixed: data + size wraps to its header
  std::string header = bytes.substr(1024, 512);
  header[124] = static_cast<char>(0x80);
  for (int i = 0; i < 11; ++i) header[135 - i] = static_cast<char>(i == 0 ? 0x00 : i == 1 ? 0xFE : i < 8 ? 0xFF : 0);
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(header[i]);
  std::snprintf(&header[148], 8, "%06o", sum);
  header[155] = ' ';
  bytes.replace(1024, 512, header);
  auto shard = dir.write("wrap.tar", bytes);
  EXPECT_EQ(data_error_within(20, [&] { io::index_shard(shard); }), 0)
      << "0: a DataError; 1: no error; 2: another exception; 142: killed after 20 s (a loop)";
}

const char* kVptRecords =
    R"({"mouse": {"dx": 1.0, "dy": -2.0, "buttons": [0]}, "yaw": 10.0, "pitch": 0.5, "keyboard": {"keys": ["key.keyboard.w"]}}
{"mouse": {"dx": 3.0, "dy": 0.0, "buttons": []}, "yaw": 12.5, "pitch": 0.25, "keyboard": {"keys": ["key.keyboard.w", "key.keyboard.space"]}}
{"mouse": {"dx": -4.0, "dy": 1.0, "buttons": [1]}, "yaw": 12.0, "pitch": 0.75, "keyboard": {"keys": []}}
)";

TEST(FrameRecords, VptFieldsGiveOneActionRowBetweenFrames) {
  auto records = io::json::parse_lines(kVptRecords);
  io::ActionFields fields = io::ActionFields::parse("mouse.dx, mouse.dy, yaw_diff, pitch_diff");
  at::Tensor rows = fields.rows(records, 0, 3, "c.jsonl");
  ASSERT_EQ(rows.sizes(), (std::vector<int64_t>{2, 4}));
  // row t: mouse of record t, yaw/pitch of record t+1 minus record t
  EXPECT_TRUE(at::equal(rows, at::tensor({1.0f, -2.0f, 2.5f, -0.25f, 3.0f, 0.0f, -0.5f, 0.5f})
                                  .view({2, 4})));
  EXPECT_EQ(fields.columns(records[0]), (std::vector<std::string>{"mouse.dx", "mouse.dy",
                                                                  "yaw_diff", "pitch_diff"}));
  // a clip starting at frame 1 of two frames: one row
  EXPECT_EQ(fields.rows(records, 1, 2, "c.jsonl")[0][2].item<float>(), -0.5f);
}

TEST(FrameRecords, ButtonsAndKeysBecomeMultiHot) {
  auto records = io::json::parse_lines(kVptRecords);
  at::Tensor hot = io::multi_hot(records, 0, 3, {"mouse.buttons", "keyboard.keys"},
                             {"0", "1", "key.keyboard.w", "key.keyboard.space"}, "c.jsonl");
  EXPECT_TRUE(at::equal(hot, at::tensor({1.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f, 1.0f, 1.0f}).view({2, 4})));
}

TEST(FrameRecords, GenericActionArraysStateRewardAndSuccess) {
  auto records = io::json::parse_lines(
      R"({"action": [0.1, -0.2], "state": [1, 2, 3], "reward": 0.5, "success": false}
{"action": [0.3, 0.4], "state": [4, 5, 6], "reward": 1.0, "success": true}
{"state": [7, 8, 9], "reward": 0.0, "success": true}
)");
  io::ActionFields fields({"action"});
  EXPECT_EQ(fields.columns(records[0]), (std::vector<std::string>{"action.0", "action.1"}));
  EXPECT_TRUE(at::allclose(fields.rows(records, 0, 3, "e.jsonl"),
                           at::tensor({0.1f, -0.2f, 0.3f, 0.4f}).view({2, 2})))
      << "the last frame needs no action";
  EXPECT_EQ(io::frame_vectors(records, 0, 3, "state", "e.jsonl").sizes(), (std::vector<int64_t>{3, 3}));
  EXPECT_TRUE(at::equal(io::frame_scalars(records, 0, 3, "success", "e.jsonl"),
                        at::tensor({0.0f, 1.0f, 1.0f})));
}

TEST(FrameRecords, MissingOrBadFieldsRaiseDataErrorNamingTheRecord) {
  auto records = io::json::parse_lines("{\"mouse\": {\"dx\": 1}}\n{\"mouse\": {\"dx\": \"fast\"}}\n{}\n");
  io::ActionFields dx({"mouse.dx"});
  EXPECT_THAT(test::error_of([&] { dx.rows(records, 0, 3, "c.jsonl"); }),
              HasSubstr("c.jsonl: record 2: field 'mouse.dx' is a string, expected a number"));
  EXPECT_THAT(test::error_of([&] { io::ActionFields({"yaw_diff"}).rows(records, 0, 2, "c.jsonl"); }),
              HasSubstr("record 1: no field 'yaw'"));
  EXPECT_THROW(dx.rows(records, 0, 5, "c.jsonl"), DataError);
}

TEST(FrameRecords, NonFiniteActionsRaiseDataErrorNamingTheRecord) {
  // Python's json writes Infinity and NaN; 1e999 overflows to inf; a difference can overflow too
  auto records = io::json::parse_lines(
      "{\"dx\": 1, \"yaw\": 1e308}\n{\"dx\": 1e999, \"yaw\": -1e308}\n{\"dx\": NaN, \"yaw\": 0}\n"
      "{\"dx\": Infinity, \"yaw\": 0}\n{\"dx\": 0, \"yaw\": 0}\n");
  EXPECT_THAT(test::error_of([&] { io::ActionFields({"dx"}).rows(records, 1, 2, "c.jsonl"); }),
              HasSubstr("c.jsonl: record 2: field 'dx' gives a non-finite action (inf)"));
  EXPECT_THROW(io::ActionFields({"dx"}).rows(records, 2, 2, "c.jsonl"), DataError);
  EXPECT_THROW(io::ActionFields({"dx"}).rows(records, 3, 2, "c.jsonl"), DataError);
  EXPECT_EQ(io::ActionFields({"dx"}).rows(records, 0, 2, "c.jsonl").item<float>(), 1.0f);
  EXPECT_THAT(test::error_of([&] { io::ActionFields({"yaw_diff"}).rows(records, 0, 2, "c.jsonl"); }),
              HasSubstr("record 1: field 'yaw_diff' gives a non-finite action (-inf)"));
  // stride sums of finite rows that overflow
  auto big = io::json::parse_lines("{\"a\": 1e308}\n{\"a\": 1e308}\n{\"a\": 0}\n");
  std::vector<double> out;
  EXPECT_THROW(io::ActionFields({"a"}).append_stride_sums(big, 0, 1, 2, "b.jsonl", out), DataError);
}

}  // namespace
}  // namespace wm
