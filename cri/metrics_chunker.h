#pragma once

// Gathers the items of a server stream into bounded responses: a response goes out once it holds
// `max_items` items or `max_bytes` of serialized items, so a node with thousands of pods never
// builds one huge message (gRPC refuses messages over the client's limit, 4 MiB by default).
// Items are moved in (Swap), not copied. Not thread-safe.
//
// TODO(metrics): the Stream* list RPCs need the same; the lead unifies them. #16

#include <cstddef>
#include <functional>
#include <utility>

#include <google/protobuf/repeated_ptr_field.h>

namespace cricket::cri {

template <typename Response, typename Item>
class StreamChunker {
 public:
  // Sends one response; false when the client went away.
  using Send = std::function<bool(const Response&)>;
  // The response's repeated field the items go into.
  using Field = google::protobuf::RepeatedPtrField<Item>* (Response::*)();

  StreamChunker(Send send, Field field, size_t max_items, size_t max_bytes)
      : send_(std::move(send)), field_(field), max_items_(max_items), max_bytes_(max_bytes) {}

  // Takes `item` over (it is left empty); false when a send failed.
  bool Add(Item& item) {
    bytes_ += item.ByteSizeLong();
    (pending_.*field_)()->Add()->Swap(&item);
    if ((pending_.*field_)()->size() >= static_cast<int>(max_items_) || bytes_ >= max_bytes_) {
      return Flush();
    }
    return true;
  }

  // Sends what is pending, if anything; false when the send failed.
  bool Flush() {
    if ((pending_.*field_)()->empty()) {
      return true;
    }
    const bool sent = send_(pending_);
    pending_.Clear();
    bytes_ = 0;
    return sent;
  }

 private:
  Send send_;
  Field field_;
  size_t max_items_;
  size_t max_bytes_;
  Response pending_;
  size_t bytes_ = 0;
};

}  // namespace cricket::cri
