#include "common/subprocess.h"

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

}  // namespace
}  // namespace cricket
