#pragma once

// The server-streaming list RPCs (StreamPodSandboxes, StreamContainers, StreamContainerStats,
// StreamPodSandboxStats, StreamImages) send what the unary List* would answer, in messages of at
// most a fixed number of objects each, so that a node with thousands of objects never builds one
// huge message (issue #16). The list code fills one item at a time through an ItemSlot: the unary
// RPC hands out slots of its response, the stream a ChunkedWriter's. Transport-free: the adapter
// wraps its grpc::ServerWriter and ServerContext into a StreamSink.

#include <cstddef>
#include <functional>
#include <utility>

#include <google/protobuf/repeated_ptr_field.h>

#include "common/result.h"

namespace cricket::cri {

// How many objects one message of a streaming list carries (CriDeps::stream_chunk_items).
inline constexpr size_t kDefaultStreamChunkItems = 100;

// The chunk size from CRICKET_STREAM_CHUNK_ITEMS's value (tests set a small one so that a few
// pods make several messages); kDefaultStreamChunkItems when unset, not a number or 0.
size_t StreamChunkItemsFrom(const char* env_value);

// A new, empty item of a list being built; an error ends the listing (the client went away).
template <typename Item>
using ItemSlot = std::function<Result<Item*>()>;

// Where a streaming RPC's messages go.
template <typename Resp>
struct StreamSink {
  // Sends one message; false when the client is gone (grpc::ServerWriter::Write).
  std::function<bool(const Resp&)> write;
  // True once the client cancelled the call (grpc::ServerContext::IsCancelled).
  std::function<bool()> cancelled;
};

// Collects items into messages of at most `max_items` and writes each full one before starting
// the next. Not thread-safe; one per call.
template <typename Resp, typename Item>
class ChunkedWriter {
 public:
  // The response's repeated field of items (e.g. &Resp::mutable_containers).
  using Field = google::protobuf::RepeatedPtrField<Item>* (Resp::*)();

  // A max_items of 0 is taken as 1.
  ChunkedWriter(StreamSink<Resp>& sink, Field field, size_t max_items)
      : sink_(sink), field_(field), max_items_(max_items == 0 ? 1 : max_items) {}

  // A slot in the current message, writing it first when it is full. kCancelled when the
  // client cancelled or went away: nothing more is built for it.
  Result<Item*> Add() {
    if (sink_.cancelled()) {
      return Error(Code::kCancelled, "the client cancelled the stream");
    }
    if (static_cast<size_t>((chunk_.*field_)()->size()) >= max_items_) {
      CR_RETURN_IF_ERROR(Flush());
    }
    return (chunk_.*field_)()->Add();
  }

  // The slot function the list code takes.
  ItemSlot<Item> Slot() {
    return [this] { return Add(); };
  }

  // Writes what is left. An empty listing sends no message: the stream just ends.
  Result<void> Finish() {
    if ((chunk_.*field_)()->empty()) {
      return Ok();
    }
    return Flush();
  }

  size_t messages_sent() const { return messages_sent_; }

 private:
  Result<void> Flush() {
    if (!sink_.write(chunk_)) {
      return Error(Code::kCancelled, "the client went away during the stream");
    }
    ++messages_sent_;
    chunk_.Clear();
    return Ok();
  }

  StreamSink<Resp>& sink_;
  Field field_;
  size_t max_items_;
  Resp chunk_;
  size_t messages_sent_ = 0;
};

// Lists through `list` (which takes an ItemSlot<Item>) into messages of `max_items` sent to
// `sink`: the body of each Stream* handler.
template <typename Resp, typename Item, typename List>
Result<void> StreamInChunks(StreamSink<Resp>& sink,
                            google::protobuf::RepeatedPtrField<Item>* (Resp::*field)(),
                            size_t max_items, List&& list) {
  ChunkedWriter<Resp, Item> writer(sink, field, max_items);
  CR_RETURN_IF_ERROR(std::forward<List>(list)(writer.Slot()));
  return writer.Finish();
}

}  // namespace cricket::cri
