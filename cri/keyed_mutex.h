#pragma once

// KeyedMutex: one lock per object id, so slow work on one pod or container (a stop with a grace
// period) never holds up calls about another. Entries are dropped when no one holds them.

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace cricket::cri {

class KeyedMutex {
 public:
  class Lock {
   public:
    Lock(KeyedMutex& owner, std::string key, std::shared_ptr<std::mutex> mu)
        : owner_(owner), key_(std::move(key)), mu_(std::move(mu)), lock_(*mu_) {}
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;
    ~Lock() {
      lock_.unlock();
      owner_.Release(key_);
    }

   private:
    KeyedMutex& owner_;
    std::string key_;
    std::shared_ptr<std::mutex> mu_;  // shared: the map entry may go while we still hold it
    std::unique_lock<std::mutex> lock_;
  };

  std::unique_ptr<Lock> Acquire(const std::string& key) {
    std::shared_ptr<std::mutex> mu;
    {
      std::lock_guard guard(map_mu_);
      auto& slot = locks_[key];
      if (!slot.mu) {
        slot.mu = std::make_shared<std::mutex>();
      }
      ++slot.users;
      mu = slot.mu;
    }
    return std::make_unique<Lock>(*this, key, std::move(mu));
  }

 private:
  struct Slot {
    std::shared_ptr<std::mutex> mu;
    int users = 0;
  };
  void Release(const std::string& key) {
    std::lock_guard guard(map_mu_);
    auto it = locks_.find(key);
    if (it != locks_.end() && --it->second.users == 0) {
      locks_.erase(it);
    }
  }

  std::mutex map_mu_;
  std::map<std::string, Slot> locks_;  // Guarded by map_mu_.
};

}  // namespace cricket::cri
