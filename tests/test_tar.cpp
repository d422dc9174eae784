// Tar shards: our reader against archives Python's tarfile writes (ustar, GNU, pax), our writer
// read back by tarfile, and truncated or corrupt shards reported as DataError.
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include "test_support.h"
#include "wm/error.h"
#include "wm/io/tar.h"
#include "wm/log.h"

namespace wm {
namespace {

using ::testing::HasSubstr;

std::string bytes_of(const std::string& seed, size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((seed[i % seed.size()] * 31 + i) & 0xFF);
  return bytes;
}

std::string read_all(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(TarReader, ReadsWhatPythonTarfileWritesInEveryFormat) {
  test::TempDir dir;
  // member i holds bytes (i*7 + j) % 256 for j < size; the long name needs ustar's prefix field,
  // a GNU long-name member or a pax header
  const char* script = R"(
import io, sys, tarfile
out = sys.argv[1]
long_name = "deep/" + "x" * 150 + "/clip.jsonl"
names = ["a.mp4", "a.jsonl", long_name, "empty.txt", "b.bin"]
sizes = [1000, 513, 77, 0, 4096]
for fmt, tag in [(tarfile.USTAR_FORMAT, "ustar"), (tarfile.GNU_FORMAT, "gnu"), (tarfile.PAX_FORMAT, "pax")]:
    with tarfile.open(f"{out}/{tag}.tar", "w", format=fmt) as tar:
        d = tarfile.TarInfo("folder"); d.type = tarfile.DIRTYPE; tar.addfile(d)
        for i, (name, size) in enumerate(zip(names, sizes)):
            info = tarfile.TarInfo(name); info.size = size
            tar.addfile(info, io.BytesIO(bytes((i * 7 + j) % 256 for j in range(size))))
print("ok")
)";
  ASSERT_THAT(test::run_python(dir, script), HasSubstr("ok"));
  for (std::string format : {"ustar", "gnu", "pax"}) {
    io::TarReader reader(dir.path() / (format + ".tar"));
    auto members = reader.index();
    ASSERT_EQ(members.size(), 5u) << format;
    EXPECT_EQ(members[0].name, "a.mp4");
    for (const auto& member : members) {
      std::string bytes = reader.read(member);
      ASSERT_EQ(bytes.size(), member.size);
      int i = member.name == "a.mp4" ? 0 : member.name == "a.jsonl" ? 1
            : member.name == "empty.txt" ? 3 : member.name == "b.bin" ? 4 : 2;
      for (size_t j = 0; j < bytes.size(); ++j)
        ASSERT_EQ(static_cast<unsigned char>(bytes[j]), (i * 7 + j) % 256) << member.name;
    }
    EXPECT_EQ(members[2].name, "deep/" + std::string(150, 'x') + "/clip.jsonl") << format;
  }
}

TEST(TarWriter, WritesShardsPythonTarfileReads) {
  test::TempDir dir;
  std::string long_name = "episodes/" + std::string(120, 'k') + ".jsonl";
  {
    io::TarWriter writer(dir.path() / "shard.tar");
    writer.add("ep0.mp4", bytes_of("video", 1500));
    writer.add("ep0.jsonl", "{\"action\": [1, 2]}\n");
    writer.add(long_name, bytes_of("long", 512));
    writer.add("empty", "");
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "shard.tar")) << "appears only on close";
    writer.close();
  }
  const char* script = R"(
import sys, tarfile, hashlib
with tarfile.open(sys.argv[1] + "/shard.tar") as tar:
    for m in tar.getmembers():
        print(m.name, m.size, hashlib.md5(tar.extractfile(m).read()).hexdigest())
)";
  std::string listing = test::run_python(dir, script);
  EXPECT_THAT(listing, HasSubstr("ep0.mp4 1500"));
  EXPECT_THAT(listing, HasSubstr("ep0.jsonl 19"));
  EXPECT_THAT(listing, HasSubstr(long_name + " 512"));
  EXPECT_THAT(listing, HasSubstr("empty 0 d41d8cd98f00b204e9800998ecf8427e"));
  // and our own reader agrees, byte for byte
  io::TarReader reader(dir.path() / "shard.tar");
  auto members = reader.index();
  ASSERT_EQ(members.size(), 4u);
  EXPECT_EQ(reader.read(members[0]), bytes_of("video", 1500));
  EXPECT_EQ(members[2].name, long_name);
  EXPECT_EQ(io::read_tar_member(dir.path() / "shard.tar", members[1]), "{\"action\": [1, 2]}\n");
}

TEST(TarWriter, AbandonedWriterLeavesNoFile) {
  test::TempDir dir;
  {
    io::TarWriter writer(dir.path() / "half.tar");
    writer.add("a.txt", "partial");
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(TarReader, TruncatedShardRaisesDataError) {
  test::TempDir dir;
  {
    io::TarWriter writer(dir.path() / "full.tar");
    writer.add("a.mp4", bytes_of("a", 2000));
    writer.add("b.mp4", bytes_of("b", 3000));
    writer.close();
  }
  std::string full = read_all(dir.path() / "full.tar");
  // cut inside b.mp4's data: the header promises more bytes than the file has
  auto cut = dir.write("cut.tar", "");
  std::ofstream(cut, std::ios::binary).write(full.data(), 512 + 2048 + 512 + 1000);
  io::TarReader reader(cut);
  io::TarMember member;
  ASSERT_TRUE(reader.next(member));
  EXPECT_EQ(member.name, "a.mp4");
  try {
    reader.next(member);
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("truncated"));
    EXPECT_THAT(e.what(), HasSubstr("b.mp4"));
    EXPECT_EQ(e.source(), cut.string());
  }
  // a member indexed before the file was cut reads as truncated too
  io::TarReader whole(dir.path() / "full.tar");
  auto members = whole.index();
  std::filesystem::resize_file(dir.path() / "full.tar", members[1].offset + 10);
  EXPECT_THROW(io::read_tar_member(dir.path() / "full.tar", members[1]), DataError);
}

TEST(TarReader, CorruptHeaderRaisesDataError) {
  test::TempDir dir;
  {
    io::TarWriter writer(dir.path() / "shard.tar");
    writer.add("a.txt", "hello");
    writer.close();
  }
  std::string bytes = read_all(dir.path() / "shard.tar");
  bytes[3] = 'Z';  // inside the name: the checksum no longer matches
  std::ofstream(dir.path() / "bad.tar", std::ios::binary).write(bytes.data(), bytes.size());
  io::TarReader reader(dir.path() / "bad.tar");
  EXPECT_THAT(test::error_of([&] { reader.index(); }), HasSubstr("checksum mismatch"));
  EXPECT_THROW(io::TarReader(dir.path() / "bad.tar").index(), DataError);
}

//---- hostile shards (issue #21): no hang, no crash, nothing dropped without a word ----

// a ustar header block; sizes of 8 GiB and more in base-256, as GNU tar writes them
std::string header_block(const std::string& name, uint64_t size, char type = '0') {
  std::string block(512, '\0');
  block.replace(0, std::min<size_t>(name.size(), 100), name.substr(0, 100));
  std::snprintf(&block[100], 8, "%07o", 0644);
  std::snprintf(&block[108], 8, "%07o", 0);
  std::snprintf(&block[116], 8, "%07o", 0);
  if (size < (uint64_t{1} << 33)) {
    std::snprintf(&block[124], 12, "%011llo", static_cast<unsigned long long>(size));
  } else {
    block[124] = static_cast<char>(0x80);
    for (int i = 0; i < 11; ++i) block[135 - i] = static_cast<char>(i < 8 ? (size >> (8 * i)) & 0xFF : 0);
  }
  std::snprintf(&block[136], 12, "%011o", 0);
  block[156] = type;
  block.replace(257, 6, std::string("ustar\0", 6));
  block.replace(263, 2, "00");
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(block[i]);
  std::snprintf(&block[148], 8, "%06o", sum);
  block[155] = ' ';
  return block;
}

std::string padded(std::string bytes) {
  bytes.resize((bytes.size() + 511) / 512 * 512, '\0');
  return bytes;
}

std::string end_blocks() { return std::string(1024, '\0'); }

// the first `limit` members (a reader that never ends must not hang the test)
std::vector<io::TarMember> first_members(io::TarReader& reader, int limit = 16) {
  std::vector<io::TarMember> members;
  io::TarMember member;
  while (static_cast<int>(members.size()) < limit && reader.next(member)) members.push_back(member);
  return members;
}

// what the shared logger printed while `body` ran
template <class Body>
std::string logged(Body body) {
  auto stream = std::make_shared<std::ostringstream>();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*stream);
  log_ptr()->sinks().push_back(sink);
  try {
    body();
  } catch (...) {
    log_ptr()->sinks().pop_back();
    throw;
  }
  log_ptr()->sinks().pop_back();
  return stream->str();
}

TEST(TarReader, SizeFieldThatWrapsTheOffsetIsADataErrorNotALoop) {
  test::TempDir dir;
  // 2^64 - 512: data + size wraps around to the header itself
  for (uint64_t size : {~uint64_t{0} - 511, ~uint64_t{0} - 1023, ~uint64_t{0}}) {
    auto shard = dir.write("wrap.tar", header_block("a.jsonl", size) + padded("{}") +
                                           header_block("b.jsonl", 2) + padded("{}") + end_blocks());
    io::TarReader reader(shard);
    EXPECT_THROW(first_members(reader), DataError) << size;
  }
  // the same header as a GNU long name: refused, never a std::length_error
  auto shard = dir.write("long.tar", header_block("././@LongLink", ~uint64_t{0} - 511, 'L') +
                                         header_block("a.jsonl", 2) + padded("{}") + end_blocks());
  io::TarReader reader(shard);
  EXPECT_THROW(first_members(reader), DataError);
}

TEST(TarReader, MemberTooLargeToHoldIsADataError) {
  test::TempDir dir;
  auto shard = dir.write("s.tar", header_block("a.jsonl", 2) + padded("{}") + end_blocks());
  io::TarReader reader(shard);
  // an index entry whose offset + size wraps past 2^64
  io::TarMember member{"huge.mp4", 512, ~uint64_t{0} - 255};
  EXPECT_THROW(reader.read(member), DataError);
}

TEST(TarReader, HugeGnuLongNameIsRefusedWithoutReadingIt) {
  test::TempDir dir;
  std::string name(200 * 1024, 'n');
  auto shard = dir.write("long.tar", header_block("././@LongLink", name.size() + 1, 'L') +
                                         padded(name + '\0') + header_block("x.jsonl", 2) +
                                         padded("{}") + end_blocks());
  io::TarReader reader(shard);
  try {
    first_members(reader);
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("GNU long-name header at byte 0 holds 204801 bytes"));
  }
}

TEST(TarReader, ZeroBlocksInsideTheArchiveAreReadOnWithAWarning) {
  test::TempDir dir;
  // two shards concatenated (cat a.tar b.tar): b's members follow a's end-of-archive blocks
  std::string a = header_block("a.jsonl", 2) + padded("{}") + end_blocks();
  std::string b = header_block("b.jsonl", 3) + padded("{ }") + end_blocks();
  auto shard = dir.write("cat.tar", a + b);
  io::TarReader reader(shard);
  std::vector<io::TarMember> members;
  std::string log_text = logged([&] { members = first_members(reader); });
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[1].name, "b.jsonl");
  EXPECT_EQ(reader.read(members[1]), "{ }");
  EXPECT_THAT(log_text, HasSubstr("zeroed header block(s) at bytes 1024..2048"));

  // a member's header zeroed: its data reads as bytes after an end marker, so the archive ends
  // there, with a warning naming where
  std::string zeroed = header_block("a.jsonl", 2) + padded("{}") + std::string(512, '\0') +
                       padded("not a header") + header_block("c.jsonl", 2) + padded("{}") +
                       end_blocks();
  io::TarReader broken(dir.write("zeroed.tar", zeroed));
  log_text = logged([&] { members = first_members(broken); });
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].name, "a.jsonl");
  EXPECT_THAT(log_text, HasSubstr("zeroed.tar: bytes from 1536 on are not a tar header; the "
                                  "archive ends at the end-of-archive marker at byte 1024"));
}

// a shard written by TarWriter, holding `names` (each member's bytes are its name)
std::string shard_bytes(const test::TempDir& dir, const std::vector<std::string>& names) {
  auto file = dir.path() / "written.tar";
  io::TarWriter writer(file);
  for (const auto& name : names) writer.add(name, name);
  writer.close();
  return read_all(file);
}

std::vector<std::string> names_of(const std::vector<io::TarMember>& members) {
  std::vector<std::string> names;
  for (const auto& member : members) names.push_back(member.name);
  return names;
}

TEST(TarReader, JunkAfterTheEndMarkerEndsTheArchiveWithAWarning) {
  test::TempDir dir;
  std::string shard = shard_bytes(dir, {"a.mp4", "a.json", "b.mp4", "b.json"});
  auto file = dir.write("junk.tar", shard + bytes_of("junk", 1024));
  io::TarReader reader(file);
  std::vector<io::TarMember> members;
  std::string log_text;
  ASSERT_NO_THROW(log_text = logged([&] { members = reader.index(); }));
  EXPECT_EQ(names_of(members), (std::vector<std::string>{"a.mp4", "a.json", "b.mp4", "b.json"}));
  EXPECT_EQ(reader.read(members[3]), "b.json");
  EXPECT_THAT(log_text, HasSubstr(file.string() + ": bytes from " + std::to_string(shard.size()) +
                                  " on are not a tar header"));
  EXPECT_THAT(log_text, HasSubstr("end-of-archive marker at byte " +
                                  std::to_string(shard.size() - 1024)));
}

TEST(TarReader, ConcatenatedShardsStillGiveBothArchivesMembers) {
  test::TempDir dir;
  std::string first = shard_bytes(dir, {"a.mp4", "a.json"});
  std::string second = shard_bytes(dir, {"b.mp4", "b.json"});
  io::TarReader reader(dir.write("cat.tar", first + second + bytes_of("junk", 1024)));
  std::vector<io::TarMember> members;
  logged([&] { members = reader.index(); });
  EXPECT_EQ(names_of(members), (std::vector<std::string>{"a.mp4", "a.json", "b.mp4", "b.json"}));
  EXPECT_EQ(reader.read(members[2]), "b.mp4");
}

TEST(TarReader, CorruptHeaderInsideAShardIsStillADataError) {
  test::TempDir dir;
  std::string shard = shard_bytes(dir, {"a.mp4", "b.mp4", "c.mp4"});
  shard[1024 + 3] = 'Z';  // b.mp4's name: its checksum no longer matches
  io::TarReader reader(dir.write("bad.tar", shard));
  EXPECT_THAT(test::error_of([&] { reader.index(); }),
              HasSubstr("corrupt tar header at byte 1024 (checksum mismatch)"));
  EXPECT_THROW(io::TarReader(dir.path() / "bad.tar").index(), DataError);
}

TEST(TarReader, ShardCutAtABlockBoundaryOrEmptyIsReported) {
  test::TempDir dir;
  std::string whole = header_block("a.jsonl", 2) + padded("{}") + header_block("b.jsonl", 2) +
                      padded("{}");
  io::TarReader cut(dir.write("cut.tar", whole.substr(0, 1024)));  // b.jsonl is gone
  std::vector<io::TarMember> members;
  std::string log_text = logged([&] { members = first_members(cut); });
  EXPECT_EQ(members.size(), 1u);
  EXPECT_THAT(log_text, HasSubstr("cut.tar: ends at byte 1024 without an end-of-archive marker"));

  io::TarReader empty(dir.write("empty.tar", ""));
  EXPECT_THAT(logged([&] { first_members(empty); }), HasSubstr("empty.tar: empty shard"));
  io::TarReader no_members(dir.write("none.tar", end_blocks()));
  EXPECT_THAT(logged([&] { first_members(no_members); }), HasSubstr("none.tar: empty shard"));
  // a whole shard says nothing
  io::TarReader fine(dir.write("fine.tar", whole + end_blocks()));
  EXPECT_EQ(logged([&] { EXPECT_EQ(first_members(fine).size(), 2u); }), "");
}

TEST(TarReader, MissingShardNamesTheFile) {
  EXPECT_THAT(test::error_of([] { io::TarReader("/nonexistent/shard-000.tar"); }),
              HasSubstr("cannot open tar shard /nonexistent/shard-000.tar"));
}

}  // namespace
}  // namespace wm
