#include "shim/control_protocol.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>

namespace cricket::shim {
namespace {

using namespace std::chrono_literals;

struct SocketPair {
  UniqueFd a;
  UniqueFd b;
  SocketPair() {
    int fds[2];
    ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
    a.Reset(fds[0]);
    b.Reset(fds[1]);
  }
};

TEST(ControlProtocolTest, RoundTripsJsonAndDescriptors) {
  SocketPair s;
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  ASSERT_TRUE(SendFrame(s.a.get(), {{"op", "exec"}, {"tty", false}}, {write_end.get()}).ok());
  auto frame = ReceiveFrame(s.b.get(), 1s);
  ASSERT_TRUE(frame.ok()) << frame.error().ToString();
  EXPECT_EQ(frame->body["op"], "exec");
  ASSERT_EQ(frame->fds.size(), 1u);
  // The received descriptor is the same pipe.
  ASSERT_EQ(::write(frame->fds[0].get(), "x", 1), 1);
  char c = 0;
  ASSERT_EQ(::read(read_end.get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');
}

TEST(ControlProtocolTest, RepliesCarryCodes) {
  EXPECT_TRUE(ReplyStatus(OkReply({{"pid", 7}})).ok());
  auto err = ReplyStatus(ErrorReply(Error(Code::kFailedPrecondition, "container is stopped")));
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(err.error().message(), "container is stopped");
  EXPECT_EQ(ReplyStatus(nlohmann::json::array()).error().code(), Code::kInvalidArgument);
}

// tests/fuzz/shim_control: a reply with fields of the wrong type threw json::type_error, and a
// float code was cast to int (undefined behaviour).
TEST(ControlProtocolTest, MalformedErrorReplyFieldsAreUnknown) {
  auto err = ReplyStatus({{"ok", false}, {"code", "x"}, {"message", 5}});
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().code(), Code::kUnknown);
  EXPECT_EQ(err.error().message(), "shim error");
  EXPECT_EQ(ReplyStatus({{"ok", false}, {"code", 1e300}}).error().code(), Code::kUnknown);
}

TEST(ControlProtocolTest, EofIsUnavailable) {
  SocketPair s;
  s.a.Reset();
  EXPECT_EQ(ReceiveFrame(s.b.get(), 1s).error().code(), Code::kUnavailable);
}

TEST(ControlProtocolTest, TruncatedAndOversizedAndGarbageFramesAreRefused) {
  {
    SocketPair s;
    ASSERT_EQ(::write(s.a.get(), "\0\0", 2), 2);
    s.a.Reset();
    EXPECT_EQ(ReceiveFrame(s.b.get(), 1s).error().message(),
              "shim control: truncated frame header");
  }
  {
    SocketPair s;
    ASSERT_EQ(::write(s.a.get(), "\0\0\0\x10{}", 6), 6);
    s.a.Reset();
    EXPECT_EQ(ReceiveFrame(s.b.get(), 1s).error().message(), "shim control: truncated frame body");
  }
  {
    SocketPair s;
    ASSERT_EQ(::write(s.a.get(), "\x7f\xff\xff\xff", 4), 4);
    auto r = ReceiveFrame(s.b.get(), 1s);
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_NE(r.error().message().find("too large"), std::string::npos);
  }
  {
    SocketPair s;
    ASSERT_EQ(::write(s.a.get(), "\0\0\0\x03[1]", 7), 7);
    EXPECT_EQ(ReceiveFrame(s.b.get(), 1s).error().message(),
              "shim control: frame is not a JSON object");
  }
}

TEST(ControlProtocolTest, SilentPeerTimesOut) {
  SocketPair s;
  EXPECT_EQ(ReceiveFrame(s.b.get(), 20ms).error().code(), Code::kDeadlineExceeded);
}

TEST(ControlProtocolTest, RandomBytesNeverCrashTheParser) {
  std::mt19937 rng(1234);
  for (int round = 0; round < 300; ++round) {
    SocketPair s;
    std::string junk(rng() % 64, '\0');
    for (auto& ch : junk) {
      ch = static_cast<char>(rng());
    }
    if (round % 3 == 0 && junk.size() >= 4) {
      junk[0] = junk[1] = 0;  // plausible small lengths
    }
    (void)!::write(s.a.get(), junk.data(), junk.size());
    s.a.Reset();
    auto frame = ReceiveFrame(s.b.get(), 200ms);
    if (frame.ok()) {
      EXPECT_TRUE(frame->body.is_object());
    }
  }
}

}  // namespace
}  // namespace cricket::shim
