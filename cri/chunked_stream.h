#pragma once

// The server-streaming list RPCs (StreamPodSandboxes, StreamContainers, StreamContainerStats,
// StreamPodSandboxStats, StreamImages) send what the unary List* would answer, in messages of at
// most a fixed number of objects (and about a fixed number of bytes) each, so that a node with
// thousands of objects never builds one huge message (issue #16); StreamPodSandboxMetrics too. The
// list code fills one item at a time through an ItemSlot: the unary RPC hands out slots of its
// response, the stream a ChunkedWriter's. Transport-free: the adapter wraps its grpc::ServerWriter
// and ServerContext into a StreamSink.

#include <cstddef>
#include <functional>
#include <utility>

#include <google/protobuf/repeated_ptr_field.h>

#include "common/result.h"

namespace cricket::cri {

// How many objects one message of a streaming list carries (CriDeps::stream_chunk_items).
inline constexpr size_t kDefaultStreamChunkItems = 100;

// A message is sent once its items reach this many serialized bytes, whatever their number: gRPC
// refuses messages over the client's limit (4 MiB by default), and a pod's metrics are ~5 KiB per
// container.
inline constexpr size_t kDefaultStreamChunkBytes = size_t{1} << 20;

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

// Collects items into messages of at most `max_items`, or about `max_bytes` (the message that
// reaches it is sent), and writes each full one before starting the next. Not thread-safe; one
// per call.
template <typename Resp, typename Item>
class ChunkedWriter {
 public:
  // The response's repeated field of items (e.g. &Resp::mutable_containers).
  using Field = google::protobuf::RepeatedPtrField<Item>* (Resp::*)();

  // A max_items of 0 is taken as 1.
  ChunkedWriter(StreamSink<Resp>& sink, Field field, size_t max_items,
                size_t max_bytes = kDefaultStreamChunkBytes)
      : sink_(sink),
        field_(field),
        max_items_(max_items == 0 ? 1 : max_items),
        max_bytes_(max_bytes) {}

  // A slot in the current message, writing it first when it is full. kCancelled when the
  // client cancelled or went away: nothing more is built for it.
  Result<Item*> Add() {
    if (sink_.cancelled()) {
      return Error(Code::kCancelled, "the client cancelled the stream");
    }
    // The previous slot has been filled by now: its size counts.
    if (last_ != nullptr) {
      bytes_ += last_->ByteSizeLong();
    }
    if (static_cast<size_t>((chunk_.*field_)()->size()) >= max_items_ || bytes_ >= max_bytes_) {
      CR_RETURN_IF_ERROR(Flush());
    }
    last_ = (chunk_.*field_)()->Add();
    return last_;
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
    last_ = nullptr;
    bytes_ = 0;
    return Ok();
  }

  StreamSink<Resp>& sink_;
  Field field_;
  size_t max_items_;
  size_t max_bytes_;
  Resp chunk_;
  Item* last_ = nullptr;  // the slot handed out last, in chunk_
  size_t bytes_ = 0;      // the serialized size of chunk_'s items before last_
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
