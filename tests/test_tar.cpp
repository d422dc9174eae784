// Tar shards: our reader against archives Python's tarfile writes (ustar, GNU, pax), our writer
// read back by tarfile, and truncated or corrupt shards reported as DataError.
#include "test_support.h"
#include "wm/error.h"
#include "wm/io/tar.h"

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

TEST(TarReader, MissingShardNamesTheFile) {
  EXPECT_THAT(test::error_of([] { io::TarReader("/nonexistent/shard-000.tar"); }),
              HasSubstr("cannot open tar shard /nonexistent/shard-000.tar"));
}

}  // namespace
}  // namespace wm
