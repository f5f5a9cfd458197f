#include "storage/layer_unpack.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/unique_fd.h"
#include "storage/digest.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/layer_fixture.h"

namespace cricket::storage {
namespace {

namespace fs = std::filesystem;
using testing::BuildLayer;
using testing::Compression;
using testing::Dir;
using testing::File;
using testing::Hardlink;
using testing::Symlink;
using testing::TarEntry;

class LayerUnpackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MakeDirs(dir_.Join("layer"), 0755).ok());
    ASSERT_TRUE(MakeDirs(dir_.Join("outside"), 0755).ok());
    ASSERT_TRUE(WriteFileAtomic(dir_.Join("outside/victim"), "original", 0644).ok());
    options_.privileged = false;
    options_.overlay_xattr_prefix = "user.overlay.";
  }

  Result<UnpackStats> Unpack(const std::string& blob) {
    std::string blob_path = dir_.Join("blob");
    EXPECT_TRUE(WriteFileAtomic(blob_path, blob, 0644).ok());
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
    UniqueFd blob_fd(::open(blob_path.c_str(), O_RDONLY | O_CLOEXEC));
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
    UniqueFd layer_fd(::open(dir_.Join("layer").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    return UnpackLayer(blob_fd.get(), layer_fd.get(), options_);
  }

  std::string L(const std::string& p) { return dir_.Join("layer/" + p); }

  // Nothing outside the layer dir changed.
  void ExpectOutsideUntouched() {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir_.Join("outside"))) {
      EXPECT_EQ(e.path().filename(), "victim");
      ++n;
    }
    EXPECT_EQ(n, 1U);
    EXPECT_EQ(*ReadFile(dir_.Join("outside/victim")), "original");
    for (const auto& e : fs::directory_iterator(dir_.path())) {
      std::string name = e.path().filename();
      EXPECT_TRUE(name == "layer" || name == "outside" || name == "blob") << name;
    }
  }

  cricket::testing::TempDir dir_{"unpack"};
  UnpackOptions options_;
};

class LayerUnpackCompressionTest : public LayerUnpackTest,
                                   public ::testing::WithParamInterface<Compression> {};

TEST_P(LayerUnpackCompressionTest, UnpacksTreeWithMetadataAndDiffId) {
  TarEntry exe = File("usr/bin/tool", "#!/bin/sh\necho hi\n", 04755);
  exe.mtime = 1234567890;
  exe.xattrs = {{"user.test", "value"}, {"trusted.overlay.opaque", "y"}};
  std::vector<TarEntry> entries = {
      Dir("usr/", 0755),
      Dir("usr/bin/", 0750),
      exe,
      Hardlink("usr/bin/tool-link", "usr/bin/tool"),
      Symlink("bin", "usr/bin"),
      Symlink("abs", "/etc/passwd"),
      File("deep/implicit/parents.txt", "x", 0600),
      File("./dot/prefixed", "y"),
  };
  entries[1].mtime = 1111111111;
  std::string plain = BuildLayer(entries, Compression::kNone);
  std::string blob = BuildLayer(entries, GetParam());
  options_.expected_diff_id = Sha256Digest(plain);

  auto stats = Unpack(blob);
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(stats->diff_id, Sha256Digest(plain));
  EXPECT_EQ(stats->uncompressed_bytes, static_cast<int64_t>(plain.size()));
  EXPECT_EQ(stats->entries, 8);

  EXPECT_EQ(*ReadFile(L("usr/bin/tool")), "#!/bin/sh\necho hi\n");
  struct stat st {};
  ASSERT_EQ(::lstat(L("usr/bin/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755U);
  EXPECT_EQ(st.st_mtime, 1234567890);
  EXPECT_EQ(st.st_nlink, 2U);
  struct stat link_st {};
  ASSERT_EQ(::lstat(L("usr/bin/tool-link").c_str(), &link_st), 0);
  EXPECT_EQ(link_st.st_ino, st.st_ino);
  ASSERT_EQ(::lstat(L("usr/bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750U);
  EXPECT_EQ(st.st_mtime, 1111111111);
  EXPECT_EQ(fs::read_symlink(L("bin")), "usr/bin");
  EXPECT_EQ(fs::read_symlink(L("abs")), "/etc/passwd");
  EXPECT_EQ(*ReadFile(L("deep/implicit/parents.txt")), "x");
  EXPECT_EQ(*ReadFile(L("dot/prefixed")), "y");
  char value[16] = {};
  EXPECT_EQ(::getxattr(L("usr/bin/tool").c_str(), "user.test", value, sizeof(value)), 5);
  EXPECT_EQ(std::string(value), "value");
  // Forged overlay metadata is dropped.
  EXPECT_LT(::getxattr(L("usr/bin/tool").c_str(), "trusted.overlay.opaque", value, sizeof(value)),
            0);
}

INSTANTIATE_TEST_SUITE_P(Compressions, LayerUnpackCompressionTest,
                         ::testing::Values(Compression::kNone, Compression::kGzip,
                                           Compression::kZstd));

TEST_F(LayerUnpackTest, WhiteoutBecomesCharDevice00) {
  auto stats = Unpack(BuildLayer({Dir("etc/"), File("etc/.wh.removed", "")}, Compression::kGzip));
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  struct stat st {};
  ASSERT_EQ(::lstat(L("etc/removed").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_FALSE(fs::exists(L("etc/.wh.removed")));
}

TEST_F(LayerUnpackTest, OpaqueMarkerSetsXattr) {
  auto stats = Unpack(BuildLayer({Dir("var/"), Dir("var/cache/"),
                                  File("var/cache/.wh..wh..opq", ""), File("var/cache/new", "n")},
                                 Compression::kGzip));
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  char value[4] = {};
  ASSERT_EQ(::getxattr(L("var/cache").c_str(), "user.overlay.opaque", value, sizeof(value)), 1)
      << strerror(errno);
  EXPECT_EQ(value[0], 'y');
  EXPECT_FALSE(fs::exists(L("var/cache/.wh..wh..opq")));
  EXPECT_TRUE(fs::exists(L("var/cache/new")));
}

TEST_F(LayerUnpackTest, LaterEntryReplacesEarlier) {
  auto stats = Unpack(BuildLayer(
      {File("a", "one"), File("a", "two"), Dir("d/"), File("d/x", "x"), File("d", "file now")},
      Compression::kNone));
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(*ReadFile(L("a")), "two");
  EXPECT_EQ(*ReadFile(L("d")), "file now");
}

TEST_F(LayerUnpackTest, DiffIdMismatchIsDataLoss) {
  options_.expected_diff_id = Sha256Digest("something else");
  auto stats = Unpack(BuildLayer({File("a", "a")}, Compression::kGzip));
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), Code::kDataLoss);
  EXPECT_NE(stats.error().message().find(options_.expected_diff_id), std::string::npos);
}

// Hostile layers: each is refused and nothing lands outside the layer directory.
struct HostileCase {
  std::string name;
  std::vector<TarEntry> entries;
};

class LayerUnpackHostileTest : public LayerUnpackTest,
                               public ::testing::WithParamInterface<HostileCase> {};

TEST_P(LayerUnpackHostileTest, RefusedAndNothingWrittenOutside) {
  auto stats = Unpack(BuildLayer(GetParam().entries, Compression::kGzip));
  ASSERT_FALSE(stats.ok()) << GetParam().name << " was accepted";
  EXPECT_EQ(stats.error().code(), Code::kInvalidArgument) << stats.error().ToString();
  ExpectOutsideUntouched();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LayerUnpackHostileTest,
    ::testing::Values(
        HostileCase{"DotDot", {File("../outside/victim", "pwned")}},
        HostileCase{"DotDotNew", {File("../escaped", "pwned")}},
        HostileCase{"NestedDotDot", {Dir("a/"), File("a/../../outside/new", "pwned")}},
        HostileCase{"Absolute", {File("/tmp/cricket-absolute-escape", "pwned")}},
        HostileCase{"SymlinkDirEscape",
                    {Symlink("evil", "../outside"), File("evil/victim", "pwned")}},
        HostileCase{"SymlinkAbsoluteEscape",
                    {Symlink("evil", "/"), File("evil/tmp/cricket-symlink-escape", "pwned")}},
        HostileCase{"SymlinkChain",
                    {Symlink("a", "b"), Symlink("b", "../outside"), File("a/new", "pwned")}},
        HostileCase{"SymlinkInsideStillRefused",
                    {Dir("real/"), Symlink("alias", "real"), File("alias/x", "x")}},
        HostileCase{"HardlinkOutside", {Hardlink("stolen", "../outside/victim")}},
        HostileCase{"HardlinkThroughSymlink",
                    {Symlink("evil", "../outside"), Hardlink("stolen", "evil/victim")}},
        HostileCase{"WhiteoutDotDot", {File(".wh...", "")}},
        HostileCase{"WhiteoutThroughSymlink",
                    {Symlink("evil", "../outside"), File("evil/.wh.victim", "")}},
        HostileCase{"OpaqueThroughSymlink",
                    {Symlink("evil", "../outside"), File("evil/.wh..wh..opq", "")}}),
    [](const ::testing::TestParamInfo<HostileCase>& p) { return p.param.name; });

TEST_F(LayerUnpackTest, SymlinkReplacedByFileIsNotFollowed) {
  // A later file entry with the name of an earlier symlink replaces the link, not its target.
  auto stats = Unpack(
      BuildLayer({Symlink("evil", "../outside/victim"), File("evil", "mine")}, Compression::kNone));
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(*ReadFile(L("evil")), "mine");
  ExpectOutsideUntouched();
}

TEST_F(LayerUnpackTest, TruncatedGzipIsDataLoss) {
  std::string blob =
      BuildLayer({File("big", std::string(300000, 'z')), File("after", "a")}, Compression::kGzip);
  auto stats = Unpack(blob.substr(0, blob.size() / 2));
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), Code::kDataLoss) << stats.error().ToString();
  ExpectOutsideUntouched();
}

TEST_F(LayerUnpackTest, TruncatedPlainTarIsDataLoss) {
  std::string blob = BuildLayer({File("big", std::string(300000, 'z'))}, Compression::kNone);
  auto stats = Unpack(blob.substr(0, 100000));
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), Code::kDataLoss) << stats.error().ToString();
}

TEST_F(LayerUnpackTest, GarbageIsDataLoss) {
  auto stats = Unpack(std::string(2048, '\x7f'));
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), Code::kDataLoss) << stats.error().ToString();
}

// tests/fuzz/layer_unpack: a gzip header cut short fails archive_read_open_fd without an error
// string, which was appended to the message as a NULL char* (SIGSEGV in strlen).
TEST_F(LayerUnpackTest, TruncatedGzipHeaderIsDataLoss) {
  auto stats = Unpack(std::string("\x1f\x8b\x08\x00\xdc\xab\x15\x26\x02\xff\xd3\x28\x00\x00", 14));
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), Code::kDataLoss) << stats.error().ToString();
  EXPECT_EQ(stats.error().message(), "open layer stream: unknown error");
}

TEST_F(LayerUnpackTest, UnprivilegedSkipsDeviceNodes) {
  TarEntry dev;
  dev.path = "dev/null";
  dev.type = 0020000;
  dev.perm = 0666;
  dev.rdev = makedev(1, 3);
  auto stats = Unpack(BuildLayer({Dir("dev/"), dev}, Compression::kNone));
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_FALSE(fs::exists(L("dev/null")));
}

// Decompression bombs (#13 item 6): the caps count what the decompressor produces.

constexpr int64_t kMiB = 1 << 20;

// Files directly in the layer dir, for checking how far an unpack got.
size_t CountEntries(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) {
    ++n;
  }
  return n;
}

TEST_F(LayerUnpackTest, GzipBombOverByteCapIsResourceExhausted) {
  // 64 MiB of zeros compress to ~64 KiB.
  std::string blob = BuildLayer({File("zeros", std::string(64 * kMiB, '\0'))}, Compression::kGzip);
  ASSERT_LT(blob.size(), static_cast<size_t>(kMiB));
  options_.max_uncompressed_bytes = kMiB;
  auto stats = Unpack(blob);
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), Code::kResourceExhausted) << stats.error().ToString();
  EXPECT_NE(stats.error().message().find("1048576 uncompressed bytes"), std::string::npos)
      << stats.error().message();
  EXPECT_NE(stats.error().message().find("max_layer_uncompressed_bytes"), std::string::npos);
  // Stopped while streaming: the partial file (the caller removes it) is about the cap, not 64 MiB.
  struct stat st {};
  if (::stat(L("zeros").c_str(), &st) == 0) {
    EXPECT_LE(st.st_blocks * 512, 2 * kMiB);
  }
  ExpectOutsideUntouched();
}

TEST_F(LayerUnpackTest, EmptyFilesOverEntryCapAreResourceExhausted) {
  std::vector<TarEntry> entries;
  for (int i = 0; i < 10000; ++i) {
    entries.push_back(File("f" + std::to_string(i), ""));
  }
  options_.max_entries = 1000;
  auto stats = Unpack(BuildLayer(entries, Compression::kGzip));
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), Code::kResourceExhausted) << stats.error().ToString();
  EXPECT_NE(stats.error().message().find("limit of 1000 entries"), std::string::npos)
      << stats.error().message();
  EXPECT_NE(stats.error().message().find("max_layer_entries"), std::string::npos);
  EXPECT_LE(CountEntries(dir_.Join("layer")), 1000U);
}

TEST_F(LayerUnpackTest, HeadersCountTowardsByteCap) {
  // No file data at all: 10,000 headers with long names are megabytes of tar stream.
  std::vector<TarEntry> entries;
  for (int i = 0; i < 10000; ++i) {
    entries.push_back(File(std::string(200, 'n') + std::to_string(i), ""));
  }
  std::string plain = BuildLayer(entries, Compression::kNone);
  ASSERT_GT(plain.size(), static_cast<size_t>(4 * kMiB));
  options_.max_uncompressed_bytes = kMiB;
  auto stats = Unpack(BuildLayer(entries, Compression::kZstd));
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), Code::kResourceExhausted) << stats.error().ToString();
  EXPECT_LT(CountEntries(dir_.Join("layer")), 10000U);
}

TEST_F(LayerUnpackTest, ZerosAfterTheTarCountTowardsByteCap) {
  // A valid one-file tar followed by 64 MiB of zero padding: the tar reader stops early, but
  // hashing the rest for the diff_id is still decompression work.
  std::string plain = BuildLayer({File("small", "x")}, Compression::kNone);
  plain.append(64 * kMiB, '\0');
  options_.max_uncompressed_bytes = kMiB;
  auto stats = Unpack(testing::Compress(plain, Compression::kGzip));
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), Code::kResourceExhausted) << stats.error().ToString();
}

TEST_F(LayerUnpackTest, LayerAtBothCapsUnpacks) {
  std::vector<TarEntry> entries;
  for (int i = 0; i < 100; ++i) {
    entries.push_back(File("f" + std::to_string(i), std::string(1024, 'd')));
  }
  std::string plain = BuildLayer(entries, Compression::kNone);
  options_.max_uncompressed_bytes = static_cast<int64_t>(plain.size());
  options_.max_entries = 100;
  auto stats = Unpack(BuildLayer(entries, Compression::kGzip));
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(stats->entries, 100);
  EXPECT_EQ(stats->uncompressed_bytes, static_cast<int64_t>(plain.size()));
  EXPECT_EQ(CountEntries(dir_.Join("layer")), 100U);

  // One byte or one entry less is over the cap.
  fs::remove_all(dir_.Join("layer"));
  fs::create_directory(dir_.Join("layer"));
  options_.max_uncompressed_bytes = static_cast<int64_t>(plain.size()) - 1;
  auto over_bytes = Unpack(BuildLayer(entries, Compression::kGzip));
  ASSERT_FALSE(over_bytes.ok());
  EXPECT_EQ(over_bytes.error().code(), Code::kResourceExhausted);
  fs::remove_all(dir_.Join("layer"));
  fs::create_directory(dir_.Join("layer"));
  options_.max_uncompressed_bytes = static_cast<int64_t>(plain.size());
  options_.max_entries = 99;
  auto over_entries = Unpack(BuildLayer(entries, Compression::kGzip));
  ASSERT_FALSE(over_entries.ok());
  EXPECT_EQ(over_entries.error().code(), Code::kResourceExhausted);
}

TEST_F(LayerUnpackTest, NonPositiveCapsAreInvalidArgument) {
  options_.max_entries = 0;
  auto stats = Unpack(BuildLayer({File("a", "1")}, Compression::kNone));
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cricket::storage
