#include "shim/control_protocol.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <random>
#include <string>

#include <gtest/gtest.h>

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

// Requests: nlohmann's value() threw json::type_error on a field of the wrong type, which ended
// the shim (its container orphaned); each is now a precise kInvalidArgument.
std::string ParseError(const nlohmann::json& req) {
  auto parsed = ParseRequest(req);
  if (parsed.ok()) {
    return "ok";
  }
  EXPECT_EQ(parsed.error().code(), Code::kInvalidArgument) << req;
  return parsed.error().message();
}

TEST(ControlProtocolTest, RequestFieldsAreTyped) {
  auto kill = ParseRequest({{"op", "kill"}, {"signal", 9}, {"all", true}});
  ASSERT_TRUE(kill.ok()) << kill.error().ToString();
  EXPECT_EQ(kill->op, "kill");
  EXPECT_EQ(kill->signal, 9);
  EXPECT_TRUE(kill->all);
  auto resize = ParseRequest({{"op", "resize"}, {"width", 80}, {"height", 24}});
  ASSERT_TRUE(resize.ok());
  EXPECT_EQ(resize->width, 80);
  EXPECT_EQ(resize->height, 24);
  auto bare = ParseRequest({{"op", "delete"}});
  ASSERT_TRUE(bare.ok());
  EXPECT_FALSE(bare->force);
  EXPECT_EQ(ParseRequest(nlohmann::json::object())->op, "");  // answered as an unknown op
  EXPECT_EQ(ParseRequest({{"op", "explode"}, {"all", "x"}})->op, "explode");
}

TEST(ControlProtocolTest, MalformedRequestFieldsArePreciseErrors) {
  using nlohmann::json;
  EXPECT_EQ(ParseError(json::array()), "shim control: request is not a JSON object");
  EXPECT_EQ(ParseError({{"op", 5}}), "shim control: op must be a string");
  const std::string signal = "kill: signal must be an integer in 1..64";
  EXPECT_EQ(ParseError({{"op", "kill"}}), signal);
  for (const json& bad : {json("TERM"), json(9.5), json(1e300), json(0), json(65), json(-9),
                          json(UINT64_MAX), json(nullptr)}) {
    EXPECT_EQ(ParseError({{"op", "kill"}, {"signal", bad}}), signal) << bad;
  }
  for (const json& bad : {json(1), json("yes"), json(nullptr), json::object()}) {
    EXPECT_EQ(ParseError({{"op", "kill"}, {"signal", 9}, {"all", bad}}),
              "kill: all must be a boolean")
        << bad;
    EXPECT_EQ(ParseError({{"op", "attach"}, {"stdin", bad}}), "attach: stdin must be a boolean");
    EXPECT_EQ(ParseError({{"op", "delete"}, {"force", bad}}), "delete: force must be a boolean");
  }
  EXPECT_EQ(ParseError({{"op", "exec"}, {"process", "sh"}}), "exec: process must be an object");
  EXPECT_EQ(ParseError({{"op", "exec"}, {"process", json::object()}, {"stdin", 1}}),
            "exec: stdin must be a boolean");
  EXPECT_EQ(ParseError({{"op", "resize"}, {"width", 80}, {"height", 70000}}),
            "resize: height must be an integer in 1..65535");
  EXPECT_EQ(ParseError({{"op", "resize"}, {"width", "80"}, {"height", 24}}),
            "resize: width must be an integer in 1..65535");
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
