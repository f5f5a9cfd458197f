#include "common/sealed_exe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/subprocess.h"
#include "tests/support/temp_dir.h"

namespace cricket {
namespace {

using testing::TempDir;

// A private copy of a small executable: a failing test must never write to /bin.
std::string CopyTrue(const TempDir& dir) {
  std::string path = dir.Join("bin/true");
  std::filesystem::create_directories(dir.Join("bin"));
  std::filesystem::copy_file("/bin/true", path);
  return path;
}

// What an attacker holding an O_PATH fd to /proc/<pid>/exe would do after the runtime exited.
int ReopenForAppend(int fd) {
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  return ::open(path.c_str(),
                O_WRONLY | O_APPEND | O_CLOEXEC);  // NOLINT(cppcoreguidelines-pro-type-vararg)
}

TEST(SealedExeTest, MemfdCopyCannotBeWrittenAndRuns) {
  TempDir dir("seal");
  const std::string path = CopyTrue(dir);
  auto sealed = SealExecutable(path, {.scratch_dir = "", .allow_overlay = false});
  ASSERT_TRUE(sealed.ok()) << sealed.error().ToString();
  EXPECT_EQ(sealed->method, SealMethod::kMemfd);
  EXPECT_TRUE(IsSealedFd(sealed->fd.get(), false));

  SubprocessOptions run;
  run.exec_fd = sealed->fd.get();
  auto r = RunSubprocess({"true"}, run);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->exit_code, 0);
  UniqueFd writer(ReopenForAppend(sealed->fd.get()));
  if (writer.valid()) {  // the open itself may be allowed; the write never is
    errno = 0;
    EXPECT_EQ(::write(writer.get(), "x", 1), -1);
    EXPECT_EQ(errno, EPERM);
  }
  EXPECT_EQ(std::filesystem::file_size(path), std::filesystem::file_size("/bin/true"));
}

TEST(SealedExeTest, OverlayHandleIsReadOnlyAndRuns) {
  TempDir dir("seal");
  TempDir scratch("scratch");
  const std::string path = CopyTrue(dir);
  auto sealed = SealExecutable(path, {.scratch_dir = scratch.path()});
  ASSERT_TRUE(sealed.ok()) << sealed.error().ToString();
  if (sealed->method != SealMethod::kOverlay) {
    GTEST_SKIP() << "no overlayfs here (needs CAP_SYS_ADMIN and fsopen): fell back to memfd";
  }
  EXPECT_TRUE(IsSealedFd(sealed->fd.get(), true));
  EXPECT_FALSE(IsSealedFd(sealed->fd.get(), false));
  errno = 0;
  EXPECT_EQ(ReopenForAppend(sealed->fd.get()), -1);
  EXPECT_EQ(errno, EROFS);
  SubprocessOptions run;
  run.exec_fd = sealed->fd.get();
  auto r = RunSubprocess({"true"}, run);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->exit_code, 0);
}

TEST(SealedExeTest, OverlappingScratchFallsBackToMemfd) {
  TempDir dir("seal");
  const std::string path = CopyTrue(dir);
  auto sealed = SealExecutable(path, {.scratch_dir = dir.path()});  // an ancestor of bin/
  ASSERT_TRUE(sealed.ok()) << sealed.error().ToString();
  EXPECT_EQ(sealed->method, SealMethod::kMemfd);
  EXPECT_TRUE(IsSealedFd(sealed->fd.get(), false));
}

TEST(SealedExeTest, HostFileIsNotSealed) {
  UniqueFd fd(
      ::open("/bin/true", O_RDONLY | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  ASSERT_TRUE(fd.valid());
  EXPECT_FALSE(IsSealedFd(fd.get(), true));
}

TEST(SealedExeTest, MissingFileIsNotFound) {
  auto sealed =
      SealExecutable("/nonexistent/cricket-shim", {.scratch_dir = "", .allow_overlay = false});
  ASSERT_FALSE(sealed.ok());
  EXPECT_EQ(sealed.error().code(), Code::kNotFound);
  EXPECT_NE(sealed.error().message().find("/nonexistent/cricket-shim"), std::string::npos);
}

TEST(SealedExeTest, RelativePathIsRefused) {
  auto sealed = SealExecutable("cricket-shim", {});
  ASSERT_FALSE(sealed.ok());
  EXPECT_EQ(sealed.error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cricket
