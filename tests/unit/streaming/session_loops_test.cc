#include "cri/streaming/session_loops.h"

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace cricket::cri::streaming {
namespace {

using Batches = std::vector<std::vector<std::string>>;

// Records what the loops ask of the protocol; Abort() closes the loops as a session's does.
class FakeTransport final : public SessionLoops::Transport {
 public:
  awaitable<boost::system::error_code> WriteBatch(const std::vector<std::string>& batch) override {
    batches.push_back(batch);
    co_return write_error;
  }
  awaitable<bool> SayGoodbye() override {
    ++goodbyes;
    co_return linger;
  }
  // Idempotent like a session's: only the first call closes, and only that one is counted.
  void Abort() override {
    if (loops->MarkClosed()) {
      ++aborts;
    }
  }

  SessionLoops* loops = nullptr;
  Batches batches;
  boost::system::error_code write_error;
  bool linger = false;
  int goodbyes = 0;
  int aborts = 0;
};

class SessionLoopsTest : public ::testing::Test {
 protected:
  void Make(SessionLoops::Options options) {
    loops_ = std::make_unique<SessionLoops>(io_.get_executor(), transport_, options);
    transport_.loops = loops_.get();
  }

  boost::asio::io_context io_;
  FakeTransport transport_;
  std::unique_ptr<SessionLoops> loops_;
  std::shared_ptr<int> session_ = std::make_shared<int>(0);  // what the loops keep alive
};

TEST_F(SessionLoopsTest, WritesInQueueOrderThenSaysGoodbyeOnClose) {
  Make({.protocol = "test", .max_batch = 2});
  for (const char* m : {"a", "bb", "ccc"}) {
    loops_->Queue(m);
  }
  EXPECT_EQ(loops_->queued_bytes(), 6U);
  loops_->Start(session_);
  loops_->BeginClose();

  io_.run();

  EXPECT_EQ(transport_.batches, (Batches{{"a", "bb"}, {"ccc"}})) << "in order, at most max_batch";
  EXPECT_EQ(loops_->queued_bytes(), 0U);
  EXPECT_EQ(transport_.goodbyes, 1) << "the goodbye comes after the queue is flushed";
  EXPECT_EQ(transport_.aborts, 1) << "no linger asked: aborted right after the goodbye";
  EXPECT_TRUE(loops_->closed());
  EXPECT_EQ(session_.use_count(), 1) << "the loops let go of the session once closed";
}

TEST_F(SessionLoopsTest, LingersAfterTheGoodbyeUntilThePeerCloses) {
  Make({.protocol = "test"});
  transport_.linger = true;
  loops_->Start(session_);
  loops_->BeginClose();

  // Every ready handler, but no timer that is not due: a fixed run time was too short on a
  // loaded machine to reach the goodbye.
  io_.poll();
  EXPECT_EQ(transport_.goodbyes, 1);
  EXPECT_EQ(transport_.aborts, 0) << "closed before the linger ran out";
  EXPECT_FALSE(loops_->closed());

  transport_.Abort();  // the read loop saw the peer's close
  io_.run();
  EXPECT_EQ(transport_.aborts, 1) << "the linger ends with the connection, no second abort";
  EXPECT_EQ(session_.use_count(), 1);
}

TEST_F(SessionLoopsTest, IdleConnectionIsAborted) {
  Make({.protocol = "test", .idle_timeout = std::chrono::milliseconds(1)});
  loops_->Start(session_);

  io_.run();

  EXPECT_EQ(transport_.aborts, 1);
  EXPECT_EQ(transport_.goodbyes, 0) << "an idle connection is aborted, not closed";
  EXPECT_TRUE(loops_->closed());
}

TEST_F(SessionLoopsTest, WriteErrorAbortsWithoutGoodbye) {
  Make({.protocol = "test"});
  transport_.write_error = boost::asio::error::connection_reset;
  loops_->Queue("lost");
  loops_->Start(session_);

  io_.run();

  EXPECT_EQ(transport_.batches, (Batches{{"lost"}}));
  EXPECT_EQ(transport_.aborts, 1);
  EXPECT_EQ(transport_.goodbyes, 0);
  EXPECT_EQ(loops_->queued_bytes(), 0U);
}

}  // namespace
}  // namespace cricket::cri::streaming
