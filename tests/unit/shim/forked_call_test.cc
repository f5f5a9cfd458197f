#include "shim/forked_call.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

namespace cricket::shim {
namespace {

TEST(ForkedCallTest, ReturnsThePidTheChildReports) {
  auto pid = RunForked([]() -> Result<pid_t> { return ::getpid(); });
  ASSERT_TRUE(pid.ok()) << pid.error().ToString();
  EXPECT_NE(*pid, ::getpid());  // it ran in another process
  EXPECT_GT(*pid, 0);
}

TEST(ForkedCallTest, ErrorKeepsCodeMessageAndErrno) {
  auto pid = RunForked([]() -> Result<pid_t> {
    return Error(Code::kPermissionDenied, "mount /proc: denied", EPERM);
  });
  ASSERT_FALSE(pid.ok());
  EXPECT_EQ(pid.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(pid.error().message(), "mount /proc: denied");
  EXPECT_EQ(pid.error().sys_errno(), EPERM);
}

TEST(ForkedCallTest, ChildThatDiesWithoutAnswerIsInternal) {
  auto pid = RunForked([]() -> Result<pid_t> { ::_exit(3); });
  ASSERT_FALSE(pid.ok());
  EXPECT_EQ(pid.error().code(), Code::kInternal);
}

TEST(ForkedCallTest, WorkOnlyTheChildDidLeavesThisProcessUnchanged) {
  static int touched = 0;
  auto pid = RunForked([]() -> Result<pid_t> {
    touched = 42;
    return 1;
  });
  ASSERT_TRUE(pid.ok());
  EXPECT_EQ(touched, 0);
}

// Like a created container's init: the child starts a process that inherits the answer pipe
// and keeps it open (it has not exec'd). The answer must not wait for that process.
TEST(ForkedCallTest, AProcessStartedByTheChildDoesNotHoldUpTheAnswer) {
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);  // as the shim: we reap what is left
  const auto start = std::chrono::steady_clock::now();
  auto pid = RunForked([]() -> Result<pid_t> {
    pid_t holder = ::fork();
    if (holder == 0) {
      ::sleep(30);
      ::_exit(0);
    }
    return holder;
  });
  ASSERT_TRUE(pid.ok()) << pid.error().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // Reparented to us when the forked child exited.
  ::kill(*pid, SIGKILL);
  int status = 0;
  EXPECT_EQ(::waitpid(*pid, &status, 0), *pid);
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
}

}  // namespace
}  // namespace cricket::shim
