// What the container's init keeps (PlanFds), how it closes the rest (CloseFdsExcept, also
// without close_range) and how it tells a working directory outside its root (CheckCwdInRoot).
// The child-side parts run in a forked process: they close this process's fds.

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "oci/child_init.h"
#include "oci/child_plan.h"
#include "tests/support/temp_dir.h"

namespace cricket::oci {
namespace {

using ::testing::ElementsAre;

ChildPlan PlanWithEveryFd() {
  ChildPlan plan;
  plan.preserve_fds = 2;  // 3 and 4 belong to the container
  plan.sync_fd = 10;
  plan.report_fd = 11;
  plan.start_fd = 12;
  plan.console_fd = 13;
  plan.joins.push_back(NsJoin{"network", "/proc/1/ns/net", 14, CLONE_NEWNET});
  MountStep idmapped;
  idmapped.tree_fd = 15;
  plan.mounts.push_back(idmapped);
  HookStep create_hook;
  create_hook.stdin_fd = 16;
  create_hook.state_write_fd = 17;
  HookStep start_hook;
  start_hook.start_container = true;
  start_hook.stdin_fd = 18;
  start_hook.state_write_fd = 19;
  plan.hooks = {create_hook, start_hook};
  plan.clone_cgroup_fd = 20;
  plan.stdio_fds[0] = 21;
  plan.stdio_fds[1] = 22;
  plan.stdio_fds[2] = 4;  // inside the preserved range: never in a keep-list
  return plan;
}

TEST(ChildFdsTest, InitKeepsOnlyWhatItUsesAndChdirSeesOnlyPipes) {
  ChildPlan plan = PlanWithEveryFd();
  PlanFds(plan);
  // Not the cgroup directory, the stdio originals or the hooks' state write ends.
  EXPECT_THAT(plan.init_fds, ElementsAre(10, 11, 12, 13, 14, 15, 16, 18));
  // At chdir: the report pipe, the exec fifo and the startContainer hook's stdin pipe.
  EXPECT_THAT(plan.exec_fds, ElementsAre(11, 12, 18));
  EXPECT_GT(plan.fd_limit, 18);
}

TEST(ChildFdsTest, StartNowAndExecKeepNoFifo) {
  ChildPlan plan = PlanWithEveryFd();
  plan.start_now = true;
  plan.hooks.clear();
  PlanFds(plan);
  EXPECT_THAT(plan.exec_fds, ElementsAre(11));
}

TEST(ChildFdsTest, FdsInThePreservedRangeAreLeftAlone) {
  ChildPlan plan;
  plan.preserve_fds = 5;
  plan.report_fd = 6;
  plan.sync_fd = 9;
  PlanFds(plan);
  EXPECT_THAT(plan.init_fds, ElementsAre(9));
  EXPECT_TRUE(plan.exec_fds.empty());
}

// Seccomp program: close_range fails with ENOSYS, as on Linux before 5.9.
void DenyCloseRange() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close_range, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    ::_exit(100);
  }
}

// In a child: opens fds 3..12, keeps 5 and 9 (preserve_fds 1 keeps 3), and exits with a bit
// per fd from 3 to 12 that is still open.
int CloseInChild(bool without_close_range) {
  pid_t pid = ::fork();
  if (pid == 0) {
    for (int fd = 3; fd <= 12; ++fd) {
      ::dup2(STDERR_FILENO, fd);
    }
    if (without_close_range) {
      DenyCloseRange();
    }
    ChildPlan plan;
    plan.preserve_fds = 1;
    plan.fd_limit = 64;
    std::vector<int> keep = {5, 9};
    child_internal::CloseFdsExcept(plan, keep);
    int open_mask = 0;
    for (int fd = 3; fd <= 12; ++fd) {
      if (::fcntl(fd, F_GETFD) >= 0) {  // NOLINT(cppcoreguidelines-pro-type-vararg)
        open_mask |= 1 << (fd - 3);
      }
    }
    ::_exit(open_mask);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ChildFdsTest, ClosesEverythingButPreservedAndKept) {
  constexpr int kExpected = (1 << 0) | (1 << 2) | (1 << 6);  // 3, 5 and 9
  EXPECT_EQ(CloseInChild(false), kExpected);
}

TEST(ChildFdsTest, ClosesWithALoopWithoutCloseRange) {
  constexpr int kExpected = (1 << 0) | (1 << 2) | (1 << 6);
  EXPECT_EQ(CloseInChild(true), kExpected);
}

// In a child with its own root (a user namespace makes chroot unprivileged): 0 when a cwd in
// the root passes and one outside fails with EXDEV, 77 when chroot is not possible here.
TEST(ChildFdsTest, WorkingDirectoryOutsideTheRootIsCaught) {
  cricket::testing::TempDir root("cwdroot");
  pid_t pid = ::fork();
  if (pid == 0) {
    int outside =
        ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);  // NOLINT(cppcoreguidelines-pro-type-vararg)
    if (::geteuid() != 0 && ::unshare(CLONE_NEWUSER) != 0) {
      ::_exit(77);
    }
    if (::chroot(root.path().c_str()) != 0 || ::chdir("/") != 0) {
      ::_exit(77);
    }
    if (!child_internal::CheckCwdInRoot()) {
      ::_exit(1);
    }
    if (::fchdir(outside) != 0 || child_internal::CheckCwdInRoot() || errno != EXDEV) {
      ::_exit(2);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) {
    GTEST_SKIP() << "no chroot here (no user namespaces for this user)";
  }
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(ChildFdsTest, CwdOutsideTheRootRendersAsInvalidArgumentNamingIt) {
  ChildPlan plan;
  plan.cwd = "/proc/self/fd/7";
  Error error = RenderChildError(plan, ChildReport{ChildStep::kCwd, EXDEV, 0, 0});
  EXPECT_EQ(error.code(), Code::kInvalidArgument);
  EXPECT_NE(error.message().find("process.cwd /proc/self/fd/7"), std::string::npos)
      << error.message();
}

}  // namespace
}  // namespace cricket::oci
