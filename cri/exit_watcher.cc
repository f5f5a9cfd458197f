#include "cri/exit_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/log.h"
#include "shim/exit_record.h"

namespace cricket::cri {

Result<std::unique_ptr<ExitWatcher>> ExitWatcher::Start(OnExit on_exit) {
  UniqueFd inotify(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!inotify.valid()) {
    return Error::FromErrno(errno, "inotify_init1");
  }
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) {
    return Error::FromErrno(errno, "eventfd");
  }
  std::unique_ptr<ExitWatcher> watcher(
      new ExitWatcher(std::move(inotify), std::move(wake), std::move(on_exit)));
  watcher->thread_ = std::thread([w = watcher.get()] { w->Run(); });
  return watcher;
}

ExitWatcher::ExitWatcher(UniqueFd inotify, UniqueFd wake, OnExit on_exit)
    : inotify_(std::move(inotify)), wake_(std::move(wake)), on_exit_(std::move(on_exit)) {}

ExitWatcher::~ExitWatcher() {
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof(one));
  if (thread_.joinable()) {
    thread_.join();
  }
}

Result<void> ExitWatcher::Watch(const std::string& container_id, const std::string& shim_dir) {
  {
    std::lock_guard lock(mu_);
    if (by_id_.contains(container_id)) {
      return Ok();
    }
    // The record arrives by rename (IN_MOVED_TO); IN_CLOSE_WRITE covers a plain write.
    int wd = ::inotify_add_watch(inotify_.get(), shim_dir.c_str(),
                                 IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR);
    if (wd < 0) {
      return Error::FromErrno(errno, "watch " + shim_dir);
    }
    by_watch_[wd] = container_id;
    by_id_[container_id] = wd;
  }
  // An exit before the watch existed would never be reported otherwise.
  if (std::filesystem::exists(shim_dir + "/" + shim::kExitRecordFile)) {
    Report(container_id);
  }
  return Ok();
}

void ExitWatcher::Forget(const std::string& container_id) { (void)Take(container_id); }

bool ExitWatcher::Take(const std::string& container_id) {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(container_id);
  if (it == by_id_.end()) {
    return false;
  }
  (void)::inotify_rm_watch(inotify_.get(), it->second);
  by_watch_.erase(it->second);
  by_id_.erase(it);
  return true;
}

void ExitWatcher::Report(const std::string& container_id) {
  if (Take(container_id)) {  // once, whichever of Watch and Run sees the record first
    on_exit_(container_id);
  }
}

void ExitWatcher::Run() {
  alignas(struct inotify_event) char buffer[16 * 1024];
  pollfd fds[2] = {{inotify_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  while (true) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      log::Error({}, "exit watcher stopped: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) {
      return;
    }
    ssize_t n = ::read(inotify_.get(), buffer, sizeof(buffer));
    if (n <= 0) {
      continue;
    }
    for (ssize_t offset = 0; offset < n;) {
      const auto* event = reinterpret_cast<const struct inotify_event*>(buffer + offset);
      offset += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
      if (event->len == 0 || std::strcmp(event->name, shim::kExitRecordFile) != 0) {
        continue;
      }
      std::string container_id;
      {
        std::lock_guard lock(mu_);
        auto it = by_watch_.find(event->wd);
        if (it == by_watch_.end()) {
          continue;
        }
        container_id = it->second;
      }
      Report(container_id);
    }
  }
}

}  // namespace cricket::cri
