#include "cri/event_broker.h"

#include <algorithm>

namespace cricket::cri {

Result<std::optional<::runtime::v1::ContainerEventResponse>> EventBroker::Subscription::Next(
    std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  ready_.wait_for(lock, wait, [&] { return !queue_.empty() || closed_.has_value(); });
  if (!queue_.empty()) {
    auto event = std::move(queue_.front());
    queue_.pop_front();
    return std::optional(std::move(event));
  }
  if (closed_) {
    return *closed_;
  }
  return std::optional<::runtime::v1::ContainerEventResponse>();
}

void EventBroker::Subscription::Push(const ::runtime::v1::ContainerEventResponse& event) {
  std::lock_guard lock(mu_);
  if (closed_) {
    return;
  }
  if (queue_.size() >= kMaxQueued) {
    queue_.clear();
    closed_ = Error(Code::kResourceExhausted,
                    "event stream fell " + std::to_string(kMaxQueued) +
                        " events behind and was closed; list containers again and resubscribe");
  } else {
    queue_.push_back(event);
  }
  ready_.notify_all();
}

void EventBroker::Subscription::Close(Error reason) {
  std::lock_guard lock(mu_);
  if (!closed_) {
    closed_ = std::move(reason);
  }
  ready_.notify_all();
}

std::shared_ptr<EventBroker::Subscription> EventBroker::Subscribe() {
  auto subscription = std::make_shared<Subscription>();
  std::lock_guard lock(mu_);
  if (closed_) {
    subscription->Close(Error(Code::kUnavailable, "cricketd is shutting down"));
    return subscription;
  }
  std::erase_if(subscribers_, [](const auto& weak) { return weak.expired(); });
  subscribers_.push_back(subscription);
  return subscription;
}

void EventBroker::Publish(const ::runtime::v1::ContainerEventResponse& event) {
  std::lock_guard lock(mu_);
  for (const auto& weak : subscribers_) {
    if (auto subscription = weak.lock()) {
      subscription->Push(event);
    }
  }
}

void EventBroker::Close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (const auto& weak : subscribers_) {
    if (auto subscription = weak.lock()) {
      subscription->Close(Error(Code::kUnavailable, "cricketd is shutting down"));
    }
  }
  subscribers_.clear();
}

}  // namespace cricket::cri
