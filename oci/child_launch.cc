#include "oci/child_launch.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/cleanup.h"
#include "common/unique_fd.h"
#include "common/log.h"
#include "oci/child_init.h"

namespace cricket::oci {
namespace {

// The calling thread's namespace of `type` (as /proc/self/ns names it) swapped for the join's
// until Restore: a child cloned meanwhile starts in the joined one.
struct ParentJoin {
  int clone_flag = 0;
  UniqueFd own;
};

bool JoinedByParent(const ChildPlan& plan, const NsJoin& join) {
  if (join.clone_flag == CLONE_NEWPID) {
    return true;  // setns(2) on a pid namespace only affects later children
  }
  // A child made in a new user namespace has no rights over what the node's owns: net, ipc
  // and uts given by path are entered here, while the runtime still has them.
  return plan.new_user_ns && (join.clone_flag == CLONE_NEWNET ||
                              join.clone_flag == CLONE_NEWIPC || join.clone_flag == CLONE_NEWUTS);
}

const char* ProcNsName(int clone_flag) {
  switch (clone_flag) {
    case CLONE_NEWPID: return "pid";
    case CLONE_NEWNET: return "net";
    case CLONE_NEWIPC: return "ipc";
    default: return "uts";
  }
}

void RestoreParentJoins(std::vector<ParentJoin>& joined) {
  for (auto& j : joined) {
    if (::setns(j.own.get(), j.clone_flag) < 0) {
      log::Warn({}, "could not return to the runtime's {} namespace: {}",
                ProcNsName(j.clone_flag), std::strerror(errno));
    }
  }
  joined.clear();
}

// Clones the init with the plan's namespaces. Some namespaces given by path are entered here,
// around the clone (JoinedByParent).
Result<pid_t> CloneChild(ChildPlan& plan, int sync_write, int report_read) {
  std::vector<ParentJoin> joined;
  auto restore = Cleanup([&] { RestoreParentJoins(joined); });
  for (auto& join : plan.joins) {
    if (!JoinedByParent(plan, join)) {
      continue;
    }
    ParentJoin j{join.clone_flag, UniqueFd(::open(  // NOLINT(cppcoreguidelines-pro-type-vararg)
                                      (std::string("/proc/thread-self/ns/") +
                                       ProcNsName(join.clone_flag)).c_str(),
                                      O_RDONLY | O_CLOEXEC))};
    if (!j.own.valid() || ::setns(join.fd, join.clone_flag) < 0) {
      return Error::FromErrno(errno, "join " + join.type + " namespace " + join.path);
    }
    joined.push_back(std::move(j));
    join.by_parent = join.clone_flag != CLONE_NEWPID;
  }
  long pid = -1;
  if (plan.clone_cgroup_fd >= 0) {
    // clone3 without a stack behaves like fork; CLONE_INTO_CGROUP starts the child in its
    // cgroup, with no migration afterwards.
    clone_args args{};
    args.flags = static_cast<uint64_t>(plan.clone_flags) | CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<uint64_t>(plan.clone_cgroup_fd);
    pid = ::syscall(SYS_clone3, &args, sizeof(args));
    plan.cgroup_joined_by_clone = pid >= 0;
  }
  if (pid < 0 && (plan.clone_cgroup_fd < 0 || errno == ENOSYS || errno == E2BIG)) {
    if (plan.clone_cgroup_fd >= 0) {
      plan.wait_for_parent = true;  // no clone3: the parent moves the child into its cgroup
    }
    pid = ::syscall(SYS_clone, static_cast<unsigned long>(plan.clone_flags) | SIGCHLD, nullptr,
                    nullptr, nullptr, nullptr);
  }
  if (pid == 0) {
    ::close(sync_write);
    ::close(report_read);
    RunChild(plan);
  }
  int clone_errno = errno;
  RestoreParentJoins(joined);
  if (pid < 0) {
    return Error::FromErrno(clone_errno, "clone the container process");
  }
  return static_cast<pid_t>(pid);
}

Error DescribeEarlyExit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) {
    return Error(Code::kInternal, "container process was killed by signal " +
                                      std::to_string(WTERMSIG(status)) + " before it was ready");
  }
  return Error(Code::kInternal, "container process exited with status " +
                                    std::to_string(WEXITSTATUS(status)) + " before it was ready");
}

}  // namespace

void ApplyStdio(const StdioOptions& stdio, ChildPlan& plan) {
  plan.stdio_fds[0] = stdio.stdin_fd;
  plan.stdio_fds[1] = stdio.stdout_fd;
  plan.stdio_fds[2] = stdio.stderr_fd;
  plan.preserve_fds = stdio.preserve_fds;
}

Result<pid_t> LaunchChild(ChildPlan& plan, const std::function<Result<void>(pid_t)>& prepare,
                          const std::function<Result<void>()>& runtime_hooks) {
  int sync_pipe[2];
  int report_pipe[2];
  if (::pipe2(sync_pipe, O_CLOEXEC) < 0) {
    return Error::FromErrno(errno, "pipe");
  }
  UniqueFd sync_read(sync_pipe[0]);
  UniqueFd sync_write(sync_pipe[1]);
  if (::pipe2(report_pipe, O_CLOEXEC) < 0) {
    return Error::FromErrno(errno, "pipe");
  }
  UniqueFd report_read(report_pipe[0]);
  UniqueFd report_write(report_pipe[1]);
  plan.sync_fd = sync_read.get();
  plan.report_fd = report_write.get();
  PlanFds(plan);
  PrepareExecPointers(plan);

  CR_ASSIGN_OR_RETURN(pid_t pid, CloneChild(plan, sync_write.get(), report_read.get()));
  sync_read.Reset();
  report_write.Reset();
  auto kill_child = Cleanup([pid] {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  });
  CR_RETURN_IF_ERROR(prepare(pid));
  // A child that does not wait may be gone already: no write, so no SIGPIPE.
  if (plan.wait_for_parent && ::write(sync_write.get(), "1", 1) != 1) {
    return Error::FromErrno(errno, "release the container process");
  }
  ChildReport report;
  ssize_t n = 0;
  for (;;) {
    do {
      n = ::read(report_read.get(), &report, sizeof(report));
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof(report)) || report.step != ChildStep::kRuntimeHooks) {
      break;
    }
    if (runtime_hooks) {
      CR_RETURN_IF_ERROR(runtime_hooks());
    }
    if (::write(sync_write.get(), "1", 1) != 1) {
      return Error::FromErrno(errno, "release the container process after the runtime's hooks");
    }
  }
  if (n == 0 && plan.start_now) {
    kill_child.Dismiss();
    return pid;  // execve closed the pipe
  }
  if (n != static_cast<ssize_t>(sizeof(report))) {
    kill_child.Dismiss();
    return DescribeEarlyExit(pid);
  }
  if (report.step != ChildStep::kReady) {
    return RenderChildError(plan, report);
  }
  kill_child.Dismiss();
  return pid;
}

}  // namespace cricket::oci
