#pragma once

// ExitWatcher: learns the moment a container ends, without polling its shim. Every shim writes
// exit.json into its state dir by rename when its container exits; one inotify thread watches
// those dirs and calls `on_exit(container_id)` once per watched container. Thread-safe.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/result.h"
#include "common/unique_fd.h"

namespace cricket::cri {

class ExitWatcher {
 public:
  using OnExit = std::function<void(const std::string& container_id)>;

  static Result<std::unique_ptr<ExitWatcher>> Start(OnExit on_exit);
  ~ExitWatcher();
  ExitWatcher(const ExitWatcher&) = delete;
  ExitWatcher& operator=(const ExitWatcher&) = delete;

  // Watches `shim_dir`; reports at once when the exit record is already there.
  Result<void> Watch(const std::string& container_id, const std::string& shim_dir);
  void Forget(const std::string& container_id);

 private:
  ExitWatcher(UniqueFd inotify, UniqueFd wake, OnExit on_exit);
  void Run();
  // Stops watching `container_id`; false if it was not watched.
  bool Take(const std::string& container_id);
  // Reports `container_id` once and stops watching it.
  void Report(const std::string& container_id);

  UniqueFd inotify_;
  UniqueFd wake_;  // eventfd: ends Run()
  OnExit on_exit_;
  std::mutex mu_;
  std::map<int, std::string> by_watch_;  // Guarded by mu_. inotify wd → container id
  std::map<std::string, int> by_id_;     // Guarded by mu_.
  std::thread thread_;
};

}  // namespace cricket::cri
