#pragma once

// EventBroker: hands CRI container events to every GetContainerEvents stream. Each subscriber
// has a bounded queue; one that falls kMaxQueued events behind is closed instead of silently
// missing events (its stream ends with RESOURCE_EXHAUSTED, and kubelet relists, as it does
// after any broken event stream). Thread-safe.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/result.h"
#include "runtime/v1/api.pb.h"

namespace cricket::cri {

class EventBroker {
 public:
  static constexpr size_t kMaxQueued = 1024;

  class Subscription {
   public:
    // The next event, nullopt if none came within `wait`, or the reason the subscription ended.
    Result<std::optional<::runtime::v1::ContainerEventResponse>> Next(
        std::chrono::milliseconds wait);

   private:
    friend class EventBroker;
    void Push(const ::runtime::v1::ContainerEventResponse& event);
    void Close(Error reason);

    std::mutex mu_;
    std::condition_variable ready_;
    std::deque<::runtime::v1::ContainerEventResponse> queue_;  // Guarded by mu_.
    std::optional<Error> closed_;                               // Guarded by mu_.
  };

  // Events published from now on reach the subscription until it is dropped or closed.
  std::shared_ptr<Subscription> Subscribe();
  void Publish(const ::runtime::v1::ContainerEventResponse& event);
  // Ends every subscription (shutdown); later subscriptions are closed at once.
  void Close();

 private:
  std::mutex mu_;
  std::vector<std::weak_ptr<Subscription>> subscribers_;  // Guarded by mu_.
  bool closed_ = false;                                     // Guarded by mu_.
};

}  // namespace cricket::cri
