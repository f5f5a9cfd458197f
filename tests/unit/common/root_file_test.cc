#include "common/root_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace cricket {
namespace {

using ::cricket::testing::TempDir;
namespace fs = std::filesystem;

// A root with /etc, and beside it (outside the root) a "host" file holding a marker.
class RootFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root_ + "/etc");
    ASSERT_TRUE(WriteFileAtomic(host_file_, "marker:x:4242:4242::/:/bin/sh\n", 0644).ok());
  }

  void Link(const std::string& target, const std::string& in_root) {
    fs::create_symlink(target, root_ + in_root);
  }

  Result<std::string> Read(const std::string& path, size_t max_bytes = kMaxAccountFileBytes) {
    return ReadFileInRoot(root_, path, max_bytes);
  }

  TempDir dir_{"rootfile"};
  std::string root_ = dir_.Join("root");
  std::string host_file_ = dir_.Join("host-passwd");
};

TEST_F(RootFileTest, ReadsARegularFile) {
  ASSERT_TRUE(WriteFileAtomic(root_ + "/etc/passwd", "root:x:0:0::/:/bin/sh\n", 0644).ok());
  auto read = Read("/etc/passwd");
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  EXPECT_EQ(*read, "root:x:0:0::/:/bin/sh\n");
  EXPECT_EQ(*Read("etc/passwd"), *read) << "a relative path is taken from the root too";
}

TEST_F(RootFileTest, MissingFileIsNotFound) {
  auto read = Read("/etc/passwd");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code(), Code::kNotFound);
  EXPECT_NE(read.error().message().find("/etc/passwd"), std::string::npos)
      << read.error().message();
  // A file where a directory should be: the root has no such file either.
  ASSERT_TRUE(WriteFileAtomic(root_ + "/etc/group", "", 0644).ok());
  EXPECT_EQ(Read("/etc/group/x").error().code(), Code::kNotFound);
}

TEST_F(RootFileTest, AbsoluteSymlinkResolvesInsideTheRoot) {
  Link(host_file_, "/etc/passwd");
  auto read = Read("/etc/passwd");
  ASSERT_FALSE(read.ok()) << "read the host's file: " << *read;
  EXPECT_EQ(read.error().code(), Code::kNotFound);
  // The same absolute target, present inside the root, is what it reaches.
  fs::create_directories(root_ + fs::path(host_file_).parent_path().string());
  ASSERT_TRUE(WriteFileAtomic(root_ + host_file_, "inside\n", 0644).ok());
  EXPECT_EQ(Read("/etc/passwd").value_or("error"), "inside\n");
}

TEST_F(RootFileTest, DotDotSymlinkStopsAtTheRoot) {
  // Enough ".." to reach / from the root on the host, then down to the host file.
  std::string up;
  for (int i = 0; i < 32; ++i) {
    up += "../";
  }
  Link(up + host_file_.substr(1), "/etc/passwd");
  auto read = Read("/etc/passwd");
  ASSERT_FALSE(read.ok()) << "read the host's file: " << *read;
  EXPECT_EQ(read.error().code(), Code::kNotFound);
  EXPECT_EQ(Read("/../../../../" + host_file_).error().code(), Code::kNotFound)
      << "a path with .. stays inside the root too";
}

TEST_F(RootFileTest, SymlinkToDevZeroDoesNotReachTheHostDevice) {
  Link("/dev/zero", "/etc/passwd");
  auto read = Read("/etc/passwd");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code(), Code::kNotFound);
  // The root's own /dev pointing at "/dev" loops inside the root instead of leaving it.
  Link("/dev", "/dev");
  read = Read("/etc/passwd");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code(), Code::kFailedPrecondition) << read.error().ToString();
}

TEST_F(RootFileTest, MagicLinkIsRefused) {
  // /proc/self/root is a magic link: from the host's root it would lead anywhere.
  auto root = OpenRootDir("/");
  ASSERT_TRUE(root.ok()) << root.error().ToString();
  auto read = ReadFileInRoot(root->get(), "/proc/self/root/etc/hostname", 4096);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code(), Code::kFailedPrecondition) << read.error().ToString();
}

TEST_F(RootFileTest, FifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((root_ + "/etc/fifo").c_str(), 0644), 0);
  Link("fifo", "/etc/passwd");
  auto start = std::chrono::steady_clock::now();
  for (const char* path : {"/etc/fifo", "/etc/passwd"}) {
    auto read = Read(path);
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().code(), Code::kFailedPrecondition);
    EXPECT_NE(read.error().message().find(std::string(path) + " in " + root_ + ": a fifo"),
              std::string::npos)
        << read.error().message();
  }
  // A blocked open of a fifo would never return: the bound only has to be below ctest's timeout.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST_F(RootFileTest, DirectoryIsRefused) {
  auto read = Read("/etc");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(read.error().message().find("a directory"), std::string::npos);
}

TEST_F(RootFileTest, FileOverTheCapIsResourceExhausted) {
  ASSERT_TRUE(WriteFileAtomic(root_ + "/etc/passwd", std::string(100, 'x'), 0644).ok());
  EXPECT_EQ(Read("/etc/passwd", 100).value_or("error").size(), 100u) << "exactly the cap is fine";
  auto read = Read("/etc/passwd", 99);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code(), Code::kResourceExhausted);
  EXPECT_NE(read.error().message().find("/etc/passwd in " + root_ + ": larger than 99 bytes"),
            std::string::npos)
      << read.error().message();
}

TEST_F(RootFileTest, LargeFileIsReadWhole) {
  // Several read chunks.
  std::string big(300 * 1024 + 7, 'y');
  ASSERT_TRUE(WriteFileAtomic(root_ + "/etc/group", big, 0644).ok());
  EXPECT_EQ(Read("/etc/group").value_or("error"), big);
}

TEST_F(RootFileTest, RootThatIsNotADirectoryNamesIt) {
  auto read = ReadFileInRoot(host_file_, "/etc/passwd", 100);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.error().message().find(host_file_), std::string::npos) << read.error().message();
}

}  // namespace
}  // namespace cricket
