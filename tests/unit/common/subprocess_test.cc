#include "common/subprocess.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace cricket {
namespace {

TEST(SubprocessTest, CapturesOutputAndExitCode) {
  auto r = RunSubprocess({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
}

TEST(SubprocessTest, FeedsStdinAndReplacesEnvironment) {
  SubprocessOptions options;
  options.stdin_data = std::string(200000, 'x');  // more than a pipe buffer
  options.env = std::vector<std::string>{"CNI_COMMAND=ADD"};
  auto r = RunSubprocess({"/bin/sh", "-c", "echo $CNI_COMMAND; wc -c"}, options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "ADD\n200000\n");
}

TEST(SubprocessTest, MissingBinaryIsNotFound) {
  auto r = RunSubprocess({"/nonexistent/plugin"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kNotFound);
  EXPECT_NE(r.error().message().find("execute /nonexistent/plugin"), std::string::npos);
}

TEST(SubprocessTest, TimeoutKillsChild) {
  SubprocessOptions options;
  options.timeout = std::chrono::milliseconds(100);
  auto r = RunSubprocess({"/bin/sh", "-c", "exec sleep 10"}, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kDeadlineExceeded);
}

// What an OCI runtime's `create` needs: its background child keeps our stdio, and the call
// returns when the runtime itself exits, not when that child closes the stdio. The child waits
// on a fifo the test opens only after the call returned (a fixed sleep and a time limit failed
// on loaded machines): a call that waited for the child's stdio would time out instead.
TEST(SubprocessTest, InheritedStdioGoesToTheChildAndItsChildren) {
  const std::string fifo = "/tmp/crtest-" + std::to_string(::getpid()) + "-subprocess.fifo";
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  int saved_stdout = ::dup(STDOUT_FILENO);
  ::dup2(fds[1], STDOUT_FILENO);
  SubprocessOptions options;
  options.inherit_stdio = true;
  options.timeout = std::chrono::seconds(30);
  auto r = RunSubprocess(
      {"/bin/sh", "-c", "echo direct; (read go < " + fifo + "; echo late) & exit 4"}, options);
  ::dup2(saved_stdout, STDOUT_FILENO);
  ::close(saved_stdout);
  ::close(fds[1]);
  {
    // Release the child (also when the call failed, so that it ends).
    int release =
        ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);  // NOLINT(cppcoreguidelines-pro-type-vararg)
    EXPECT_EQ(::write(release, "go\n", 3), 3);
    ::close(release);
    ::unlink(fifo.c_str());
  }
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->exit_code, 4);
  EXPECT_EQ(r->out, "");
  std::string got;
  char buf[64];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;) {
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  EXPECT_EQ(got, "direct\nlate\n");
}

TEST(SubprocessTest, InheritedStdioStillTimesOut) {
  SubprocessOptions options;
  options.inherit_stdio = true;
  options.timeout = std::chrono::milliseconds(100);
  auto r = RunSubprocess({"/bin/sh", "-c", "exec sleep 10"}, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kDeadlineExceeded);
}

}  // namespace
}  // namespace cricket
