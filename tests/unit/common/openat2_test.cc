#include "common/openat2.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/unique_fd.h"
#include "tests/support/temp_dir.h"

namespace cricket {
namespace {

using ::cricket::testing::TempDir;
namespace fs = std::filesystem;

// A root holding dir/file, the symlinks "up" (../outside/secret) and "abs" (the absolute path of
// the same file), and outside/secret of its own; beside the root, the real outside/secret that
// both links reach when nothing keeps the walk inside.
class Openat2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root_ + "/dir");
    fs::create_directories(root_ + "/outside");
    fs::create_directories(dir_.Join("outside"));
    ASSERT_TRUE(WriteFileAtomic(root_ + "/dir/file", "plain", 0644).ok());
    ASSERT_TRUE(WriteFileAtomic(root_ + "/outside/secret", "inside", 0644).ok());
    ASSERT_TRUE(WriteFileAtomic(outside_secret_, "outside", 0644).ok());
    fs::create_symlink("../outside/secret", root_ + "/up");
    fs::create_symlink(outside_secret_, root_ + "/abs");
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
    root_fd_ = UniqueFd(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_GE(root_fd_.get(), 0);
  }

  static std::string ReadAll(int fd) {
    char buf[64];
    ssize_t n = ::read(fd, buf, sizeof(buf));
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

  TempDir dir_{"openat2"};
  std::string root_ = dir_.Join("root");
  std::string outside_secret_ = dir_.Join("outside/secret");
  UniqueFd root_fd_;
};

TEST_F(Openat2Test, OpensAPathBelowTheDirectoryCloseOnExec) {
  UniqueFd fd(Openat2(root_fd_.get(), "dir/file", O_RDONLY, RESOLVE_BENEATH));
  ASSERT_GE(fd.get(), 0) << std::strerror(errno);
  EXPECT_EQ(ReadAll(fd.get()), "plain");
  EXPECT_NE(::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC, 0) << "O_CLOEXEC is always added";
}

TEST_F(Openat2Test, InRootKeepsADotDotSymlinkInside) {
  UniqueFd fd(Openat2(root_fd_.get(), "up", O_RDONLY, RESOLVE_IN_ROOT));
  ASSERT_GE(fd.get(), 0) << std::strerror(errno);
  EXPECT_EQ(ReadAll(fd.get()), "inside") << "\"..\" at the root must stay at the root";
}

TEST_F(Openat2Test, InRootResolvesAnAbsoluteSymlinkFromTheRoot) {
  errno = 0;
  UniqueFd fd(Openat2(root_fd_.get(), "abs", O_RDONLY, RESOLVE_IN_ROOT));
  EXPECT_LT(fd.get(), 0) << "opened " << ReadAll(fd.get()) << " through an absolute symlink";
  EXPECT_EQ(errno, ENOENT) << "the root has no " << outside_secret_;
}

TEST_F(Openat2Test, BeneathRefusesAnEscapeWithExdev) {
  errno = 0;
  UniqueFd fd(Openat2(root_fd_.get(), "up", O_RDONLY, RESOLVE_BENEATH));
  EXPECT_LT(fd.get(), 0) << "opened " << ReadAll(fd.get()) << " outside the directory";
  EXPECT_EQ(errno, EXDEV) << "errno must be the kernel's";
}

TEST_F(Openat2Test, NoSymlinksRefusesAnySymlinkWithEloop) {
  errno = 0;
  UniqueFd fd(Openat2(root_fd_.get(), "up", O_RDONLY, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS));
  EXPECT_LT(fd.get(), 0) << "opened " << ReadAll(fd.get()) << " through a symlink";
  EXPECT_EQ(errno, ELOOP);
}

}  // namespace
}  // namespace cricket
