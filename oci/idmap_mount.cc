#include "oci/idmap_mount.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "common/idmapped_tree.h"

namespace cricket::oci {
namespace {

Result<void> WriteMap(pid_t pid, const char* file, const std::vector<IdMapping>& mappings) {
  std::string text;
  for (const auto& m : mappings) {
    text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
            std::to_string(m.size) + "\n";
  }
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (!fd.valid() || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return Error::FromErrno(errno, "write " + path);
  }
  return Ok();
}

}  // namespace

Result<UniqueFd> MakeUserNamespace(const std::vector<IdMapping>& uid_mappings,
                                   const std::vector<IdMapping>& gid_mappings) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) {
    return Error::FromErrno(errno, "pipe");
  }
  UniqueFd hold(fds[0]);
  UniqueFd release(fds[1]);
  // The child only waits, holding the namespace, until the parent has opened it: no allocation
  // after the clone.
  long pid = ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) {
    return Error::FromErrno(errno, "clone a user namespace for an idmapped mount");
  }
  if (pid == 0) {
    ::close(fds[1]);
    char byte = 0;
    ssize_t n = ::read(fds[0], &byte, 1);
    ::_exit(n < 0 ? 1 : 0);
  }
  hold.Reset();
  auto child = static_cast<pid_t>(pid);
  Result<void> mapped = WriteMap(child, "uid_map", uid_mappings);
  if (mapped.ok()) {
    mapped = WriteMap(child, "gid_map", gid_mappings);
  }
  UniqueFd ns;
  if (mapped.ok()) {
    std::string path = "/proc/" + std::to_string(child) + "/ns/user";
    ns.Reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
    if (!ns.valid()) {
      mapped = Error::FromErrno(errno, "open " + path);
    }
  }
  release.Reset();
  while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (!mapped.ok()) {
    return std::move(mapped).error();
  }
  return ns;
}

Result<void> PrepareIdmappedMounts(ChildPlan& plan) {
  for (MountStep& step : plan.mounts) {
    if (!step.idmap) {
      continue;
    }
    CR_ASSIGN_OR_RETURN(UniqueFd userns, MakeUserNamespace(step.uid_mappings, step.gid_mappings));
    CR_ASSIGN_OR_RETURN(UniqueFd tree, IdmappedTree(step.source, userns.get(),
                                                    {.recursive_copy = (step.flags & MS_REC) != 0,
                                                     .recursive_idmap = step.idmap_recursive}));
    step.tree_fd = tree.Release();
    plan.owned_fds.push_back(step.tree_fd);
  }
  return Ok();
}

}  // namespace cricket::oci
