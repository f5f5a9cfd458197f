#include "network/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "network/netlink.h"

namespace cricket::network {
namespace {

Result<void> LoopbackUp() {
  CR_ASSIGN_OR_RETURN(Netlink nl, Netlink::Open());
  CR_ASSIGN_OR_RETURN(int lo, nl.LinkIndex("lo"));
  return nl.SetUp(lo);
}

// Runs `fn` on a fresh thread and waits: namespace changes die with the thread.
Result<void> OnOwnThread(const std::function<Result<void>()>& fn) {
  Result<void> result = Ok();
  std::thread worker([&] { result = fn(); });
  worker.join();
  return result;
}

}  // namespace

Result<void> CreateNetns(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);  // NOLINT
  if (fd < 0) {
    return Error::FromErrno(errno, "create netns pin " + path);
  }
  ::close(fd);
  auto created = OnOwnThread([&]() -> Result<void> {
    if (::unshare(CLONE_NEWNET) < 0) {
      return Error::FromErrno(errno, "unshare network namespace");
    }
    if (::mount("/proc/thread-self/ns/net", path.c_str(), nullptr, MS_BIND, nullptr) < 0) {
      return Error::FromErrno(errno, "bind netns onto " + path);
    }
    return LoopbackUp();
  });
  if (!created.ok()) {
    (void)RemoveNetns(path);
  }
  return created;
}

Result<void> RemoveNetns(const std::string& path) {
  if (::umount2(path.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
    return Error::FromErrno(errno, "unmount netns " + path);
  }
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) {
    return Error::FromErrno(errno, "remove netns pin " + path);
  }
  return Ok();
}

Result<UniqueFd> OpenNetns(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // NOLINT
  if (fd < 0) {
    return Error::FromErrno(errno, "open netns " + path);
  }
  return UniqueFd(fd);
}

Result<void> RunInNetns(int netns_fd, const std::function<Result<void>()>& fn) {
  return OnOwnThread([&]() -> Result<void> {
    if (::setns(netns_fd, CLONE_NEWNET) < 0) {
      return Error::FromErrno(errno, "join network namespace");
    }
    return fn();
  });
}

}  // namespace cricket::network
