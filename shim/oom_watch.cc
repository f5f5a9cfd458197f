#include "shim/oom_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace cricket::shim {

Result<OomWatch> OomWatch::Start(std::unique_ptr<oci::CgroupManager> cgroup) {
  const std::string file = cgroup->OomEventsFile();
  if (file.empty()) {
    return OomWatch(std::move(cgroup), UniqueFd());
  }
  UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "inotify_init1 for " + file);
  }
  if (::inotify_add_watch(fd.get(), file.c_str(), IN_MODIFY) < 0) {
    return Error::FromErrno(errno, "watch " + file);
  }
  OomWatch watch(std::move(cgroup), std::move(fd));
  watch.OnReadable();  // a kill before the watch began (during create) counts too
  return watch;
}

void OomWatch::OnReadable() {
  if (!inotify_.valid()) {
    return;
  }
  // The events carry no data we need (one watch, one file): only that the file changed. Once
  // the cgroup is removed the kernel drops the watch (IN_IGNORED) and the fd stays quiet.
  alignas(inotify_event) char buf[4096];
  while (::read(inotify_.get(), buf, sizeof(buf)) > 0) {
  }
  if (killed_) {
    return;
  }
  auto killed = cgroup_->OomKilled();  // fails once the cgroup is gone: keep what was seen
  killed_ = killed.ok() && *killed;
}

bool OomWatch::Killed() {
  OnReadable();
  return killed_;
}

}  // namespace cricket::shim
