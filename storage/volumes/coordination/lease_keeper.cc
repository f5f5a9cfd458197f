#include "storage/volumes/coordination/lease_keeper.h"

#include <utility>

namespace cricket::storage {

std::unique_ptr<LeaseKeeper> LeaseKeeper::Start(VolumeCoordinator& coordinator, VolumeLease lease,
                                                LostCallback on_lost, Options options) {
  std::chrono::milliseconds interval = options.interval;
  if (interval <= std::chrono::milliseconds(0)) {
    interval = lease.ttl > std::chrono::seconds(0)
                   ? std::chrono::duration_cast<std::chrono::milliseconds>(lease.ttl) / 3
                   : std::chrono::milliseconds(5000);
  }
  std::unique_ptr<LeaseKeeper> keeper(
      new LeaseKeeper(coordinator, std::move(lease), std::move(on_lost), interval));
  keeper->thread_ = std::thread([k = keeper.get()] { k->Run(); });
  return keeper;
}

LeaseKeeper::LeaseKeeper(VolumeCoordinator& coordinator, VolumeLease lease, LostCallback on_lost,
                         std::chrono::milliseconds interval)
    : coordinator_(coordinator),
      lease_(std::move(lease)),
      on_lost_(std::move(on_lost)),
      interval_(interval) {}

LeaseKeeper::~LeaseKeeper() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::optional<Error> LeaseKeeper::lost() const {
  std::lock_guard lock(mu_);
  return lost_;
}

bool LeaseKeeper::Sleep(std::chrono::milliseconds delay) {
  std::unique_lock lock(mu_);
  return !wake_.wait_for(lock, delay, [this] { return stop_; });
}

void LeaseKeeper::Run() {
  using Clock = std::chrono::steady_clock;
  Clock::time_point last_renewed = Clock::now();
  while (Sleep(interval_)) {
    // etcd renews when the request arrives, so the TTL counts from before we send it.
    Clock::time_point sent = Clock::now();
    Result<void> renewed = coordinator_.KeepAlive(lease_);
    std::optional<Error> loss;
    if (renewed.ok()) {
      last_renewed = sent;
    } else if (renewed.error().code() == Code::kAborted) {
      loss = renewed.error();
    } else if (lease_.ttl > std::chrono::seconds(0) && Clock::now() - last_renewed >= lease_.ttl) {
      // Not renewed for a whole TTL: etcd has let the lease go, or will before we hear back.
      loss = Error(Code::kAborted, "lease on volume " + lease_.volume + " (token " +
                                       std::to_string(lease_.token) + ") not renewed for " +
                                       std::to_string(lease_.ttl.count()) +
                                       " s: " + renewed.error().message());
    }
    if (loss.has_value()) {
      {
        std::lock_guard lock(mu_);
        lost_ = loss;
      }
      if (on_lost_) {
        on_lost_(*loss);
      }
      return;
    }
  }
}

}  // namespace cricket::storage
