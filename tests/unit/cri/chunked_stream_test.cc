#include "cri/chunked_stream.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/v1/api.pb.h"

namespace cricket::cri {
namespace {

namespace v1 = ::runtime::v1;

// A sink that keeps what it is sent; it can fail a write or report a cancel after some messages.
class RecordingSink {
 public:
  std::vector<v1::StreamContainersResponse> sent;
  size_t fail_write_after = SIZE_MAX;
  size_t cancel_after = SIZE_MAX;

  StreamSink<v1::StreamContainersResponse>& sink() { return sink_; }

  // The number of items of each message sent.
  std::vector<int> Sizes() const {
    std::vector<int> sizes;
    for (const auto& msg : sent) {
      sizes.push_back(msg.containers_size());
    }
    return sizes;
  }

 private:
  StreamSink<v1::StreamContainersResponse> sink_{
      .write =
          [this](const v1::StreamContainersResponse& msg) {
            if (sent.size() >= fail_write_after) {
              return false;
            }
            sent.push_back(msg);
            return true;
          },
      .cancelled = [this] { return sent.size() >= cancel_after; }};
};

// Adds `n` containers named c0, c1, ... through `slot`, as the list code does.
Result<void> ListN(int n, const ItemSlot<v1::Container>& slot) {
  for (int i = 0; i < n; ++i) {
    CR_ASSIGN_OR_RETURN(v1::Container * item, slot());
    item->set_id("c" + std::to_string(i));
  }
  return Ok();
}

Result<void> Stream(RecordingSink& out, int n, size_t max_items) {
  return StreamInChunks(out.sink(), &v1::StreamContainersResponse::mutable_containers, max_items,
                        [&](const ItemSlot<v1::Container>& slot) { return ListN(n, slot); });
}

TEST(ChunkedStreamTest, ItemsGoOutInFullChunksThenTheRest) {
  RecordingSink out;
  ASSERT_TRUE(Stream(out, 5, 2).ok());
  EXPECT_EQ(out.Sizes(), (std::vector<int>{2, 2, 1}));
  // In order, none lost or repeated.
  std::vector<std::string> ids;
  for (const auto& msg : out.sent) {
    for (const auto& c : msg.containers()) {
      ids.push_back(c.id());
    }
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"c0", "c1", "c2", "c3", "c4"}));
}

TEST(ChunkedStreamTest, AnExactMultipleSendsNoEmptyMessage) {
  RecordingSink out;
  ASSERT_TRUE(Stream(out, 4, 2).ok());
  EXPECT_EQ(out.Sizes(), (std::vector<int>{2, 2}));
}

TEST(ChunkedStreamTest, AnEmptyListSendsNothing) {
  RecordingSink out;
  ASSERT_TRUE(Stream(out, 0, 2).ok());
  EXPECT_TRUE(out.sent.empty());
}

TEST(ChunkedStreamTest, NoMessageHoldsMoreThanTheDefaultChunk) {
  RecordingSink out;
  ASSERT_TRUE(Stream(out, 250, kDefaultStreamChunkItems).ok());
  EXPECT_EQ(out.Sizes(), (std::vector<int>{100, 100, 50}));
}

// Large items close a message by bytes before it reaches its count (StreamPodSandboxMetrics: a
// pod with many containers is large); the message that reaches the bound is sent whole.
TEST(ChunkedStreamTest, MessagesAreAlsoBoundedInBytes) {
  RecordingSink out;
  ChunkedWriter<v1::StreamContainersResponse, v1::Container> writer(
      out.sink(), &v1::StreamContainersResponse::mutable_containers, 100, 2500);
  for (int i = 0; i < 5; ++i) {
    auto item = writer.Add();
    ASSERT_TRUE(item.ok());
    (*item)->set_id("c" + std::to_string(i) + std::string(1000, 'x'));
  }
  ASSERT_TRUE(writer.Finish().ok());
  EXPECT_EQ(out.Sizes(), (std::vector<int>{3, 2}));
  EXPECT_EQ(writer.messages_sent(), 2U);
}

TEST(ChunkedStreamTest, ZeroIsTakenAsOne) {
  RecordingSink out;
  ASSERT_TRUE(Stream(out, 2, 0).ok());
  EXPECT_EQ(out.Sizes(), (std::vector<int>{1, 1}));
}

TEST(ChunkedStreamTest, ACancelStopsTheListing) {
  RecordingSink out;
  out.cancel_after = 1;
  int listed = 0;
  auto streamed = StreamInChunks(out.sink(), &v1::StreamContainersResponse::mutable_containers, 2,
                                 [&](const ItemSlot<v1::Container>& slot) -> Result<void> {
                                   for (int i = 0; i < 100; ++i) {
                                     CR_ASSIGN_OR_RETURN(v1::Container * item, slot());
                                     item->set_id("c" + std::to_string(i));
                                     ++listed;
                                   }
                                   return Ok();
                                 });
  ASSERT_FALSE(streamed.ok());
  EXPECT_EQ(streamed.error().code(), Code::kCancelled);
  EXPECT_EQ(out.Sizes(), (std::vector<int>{2}));
  EXPECT_EQ(listed, 3) << "the list goes on no further than the slot that saw the cancel";
}

TEST(ChunkedStreamTest, AFailedWriteStopsTheListing) {
  RecordingSink out;
  out.fail_write_after = 1;
  auto streamed = Stream(out, 100, 2);
  ASSERT_FALSE(streamed.ok());
  EXPECT_EQ(streamed.error().code(), Code::kCancelled);
  EXPECT_EQ(out.Sizes(), (std::vector<int>{2}));
}

TEST(ChunkedStreamTest, TheChunkSizeComesFromTheEnvironmentWhenValid) {
  EXPECT_EQ(StreamChunkItemsFrom(nullptr), kDefaultStreamChunkItems);
  EXPECT_EQ(StreamChunkItemsFrom("3"), 3U);
  EXPECT_EQ(StreamChunkItemsFrom("0"), kDefaultStreamChunkItems);
  EXPECT_EQ(StreamChunkItemsFrom("-2"), kDefaultStreamChunkItems);
  EXPECT_EQ(StreamChunkItemsFrom("2x"), kDefaultStreamChunkItems);
  EXPECT_EQ(StreamChunkItemsFrom(""), kDefaultStreamChunkItems);
}

}  // namespace
}  // namespace cricket::cri
