#pragma once

// LeaseKeeper: keeps one VolumeLease alive in the background while a volume is attached.
//
// A thread calls coordinator.KeepAlive(lease) every `interval` (default: a third of the
// lease's TTL, or 5 s for leases without one). It reports loss once, through `on_lost`, when
// KeepAlive returns kAborted (fenced, expired, taken over) or when no KeepAlive succeeded for a
// whole TTL (etcd unreachable: the lease must be presumed expired). After that it stops; the
// holder must stop writing to the volume and never publish from its copy again.
//
// Thread-safety: on_lost runs on the keeper's thread and must not destroy the keeper.
// The destructor stops and joins the thread; it does not release the lease.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "common/result.h"
#include "storage/volumes/coordination/coordinator.h"

namespace cricket::storage {

class LeaseKeeper {
 public:
  using LostCallback = std::function<void(const Error&)>;

  struct Options {
    // Zero: a third of lease.ttl, or 5 s when the lease has no TTL.
    std::chrono::milliseconds interval{0};
  };

  // `coordinator` must outlive the keeper.
  static std::unique_ptr<LeaseKeeper> Start(VolumeCoordinator& coordinator, VolumeLease lease,
                                            LostCallback on_lost, Options options);
  static std::unique_ptr<LeaseKeeper> Start(VolumeCoordinator& coordinator, VolumeLease lease,
                                            LostCallback on_lost) {
    return Start(coordinator, std::move(lease), std::move(on_lost), Options{});
  }

  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;
  LeaseKeeper(LeaseKeeper&&) = delete;
  LeaseKeeper& operator=(LeaseKeeper&&) = delete;
  ~LeaseKeeper();

  const VolumeLease& lease() const { return lease_; }
  // The reason the lease was lost, or nullopt while it is held.
  std::optional<Error> lost() const;

 private:
  LeaseKeeper(VolumeCoordinator& coordinator, VolumeLease lease, LostCallback on_lost,
              std::chrono::milliseconds interval);
  void Run();
  // Waits `delay` or until stopped; false when stopped.
  bool Sleep(std::chrono::milliseconds delay);

  VolumeCoordinator& coordinator_;
  const VolumeLease lease_;
  const LostCallback on_lost_;
  const std::chrono::milliseconds interval_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;          // Guarded by mu_.
  std::optional<Error> lost_;  // Guarded by mu_.
  std::thread thread_;
};

}  // namespace cricket::storage
