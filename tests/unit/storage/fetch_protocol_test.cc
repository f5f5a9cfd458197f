#include "storage/fetch_protocol.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/unique_fd.h"

namespace cricket::storage {
namespace {

using Clock = std::chrono::steady_clock;

class FetchPipeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read_.Reset(fds[0]);
    write_.Reset(fds[1]);
  }
  void WriteRaw(std::string_view bytes) {
    ASSERT_EQ(::write(write_.get(), bytes.data(), bytes.size()),
              static_cast<ssize_t>(bytes.size()));
  }
  UniqueFd read_;
  UniqueFd write_;
};

TEST_F(FetchPipeTest, FramesRoundTripInOrder) {
  const std::string binary("a\0b\xff", 4);
  ASSERT_TRUE(WriteFrame(write_.get(), FrameType::kHead, "{}").ok());
  ASSERT_TRUE(WriteFrame(write_.get(), FrameType::kBody, binary).ok());
  ASSERT_TRUE(WriteFrame(write_.get(), FrameType::kDone, "").ok());
  write_.Reset();
  auto head = ReadFrame(read_.get());
  ASSERT_TRUE(head.ok()) << head.error().ToString();
  EXPECT_EQ(head->type, FrameType::kHead);
  EXPECT_EQ(head->payload, "{}");
  auto body = ReadFrame(read_.get());
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->type, FrameType::kBody);
  EXPECT_EQ(body->payload, binary);
  auto done = ReadFrame(read_.get());
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->type, FrameType::kDone);
  EXPECT_EQ(done->payload, "");
  auto end = ReadFrame(read_.get());
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(end.error().code(), Code::kUnavailable);
}

TEST_F(FetchPipeTest, UnknownFrameTypeIsDataLoss) {
  WriteRaw(std::string("X\0\0\0\0", 5));
  auto frame = ReadFrame(read_.get());
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.error().code(), Code::kDataLoss);
  EXPECT_NE(frame.error().message().find("unknown frame type"), std::string::npos);
}

TEST_F(FetchPipeTest, StreamEndingInsideAFrameIsDataLoss) {
  WriteRaw(std::string("B\x0a\0\0\0abc", 8));  // announces 10 bytes, sends 3
  write_.Reset();
  auto frame = ReadFrame(read_.get());
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.error().code(), Code::kDataLoss);
}

TEST_F(FetchPipeTest, OversizedFrameIsRefusedBeforeReadingIt) {
  WriteRaw(std::string("B\xff\xff\xff\xff", 5));
  auto frame = ReadFrame(read_.get());
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.error().code(), Code::kDataLoss);
}

TEST_F(FetchPipeTest, SilentWriterMeetsTheDeadline) {
  auto frame = ReadFrame(read_.get(), Clock::now() + std::chrono::milliseconds(20));
  ASSERT_FALSE(frame.ok());
  EXPECT_EQ(frame.error().code(), Code::kDeadlineExceeded);
}

TEST_F(FetchPipeTest, WritingToAGoneReaderIsUnavailable) {
  read_.Reset();
  ::signal(SIGPIPE, SIG_IGN);  // as in cricketd and cricket-fetch
  auto written = WriteFrame(write_.get(), FrameType::kBody, "x");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code(), Code::kUnavailable);
}

TEST(FetchRequestTest, RoundTripKeepsEverythingButTheBody) {
  const auto now = Clock::now();
  HttpRequest request;
  request.method = "PUT";
  request.url = "http://127.0.0.1:5000/v2/x/blobs/uploads/1?digest=sha256:ab";
  request.headers = {"Content-Type: application/octet-stream", "Authorization: Bearer t"};
  request.basic_auth = "user:pa:ss";
  request.skip_tls_verify = true;
  request.range_from = 42;
  request.low_speed_bytes = 100;
  request.low_speed_seconds = 7;
  request.upload_fd = 17;
  request.upload_size = 12345;
  request.deadline = now + std::chrono::seconds(5);
  request.body = "sent in its own frame";

  auto decoded = DecodeRequest(EncodeRequest(request, now), now);
  ASSERT_TRUE(decoded.ok()) << decoded.error().ToString();
  EXPECT_EQ(decoded->method, "PUT");
  EXPECT_EQ(decoded->url, request.url);
  EXPECT_EQ(decoded->headers, request.headers);
  EXPECT_EQ(decoded->basic_auth, "user:pa:ss");
  EXPECT_TRUE(decoded->skip_tls_verify);
  EXPECT_EQ(decoded->range_from, 42);
  EXPECT_EQ(decoded->low_speed_bytes, 100);
  EXPECT_EQ(decoded->low_speed_seconds, 7);
  EXPECT_EQ(decoded->upload_fd, kFetchUploadFd);  // the helper reads the file as fd 3
  EXPECT_EQ(decoded->upload_size, 12345);
  EXPECT_EQ(decoded->deadline, request.deadline);
  EXPECT_EQ(decoded->body, "");
}

TEST(FetchRequestTest, NoDeadlineAndNoUploadStayThatWay) {
  HttpRequest request;
  request.url = "http://h/";
  auto decoded = DecodeRequest(EncodeRequest(request, Clock::now()), Clock::now());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->deadline, Deadline::max());
  EXPECT_EQ(decoded->upload_fd, -1);
}

TEST(FetchRequestTest, MalformedRequestsAreInvalidArgument) {
  for (const char* text : {"", "[]", "{\"method\":\"GET\"}", "{\"method\":1,\"url\":\"u\"}"}) {
    auto decoded = DecodeRequest(text, Clock::now());
    ASSERT_FALSE(decoded.ok()) << text;
    EXPECT_EQ(decoded.error().code(), Code::kInvalidArgument) << text;
  }
}

TEST(FetchHeadTest, RoundTripKeepsRepeatedHeaders) {
  HttpResponse response;
  response.status = 307;
  response.effective_url = "http://h/v2/";
  response.headers = {
      {"www-authenticate", "Bearer a"}, {"www-authenticate", "Basic b"}, {"location", "/x"}};
  auto decoded = DecodeHead(EncodeHead(response));
  ASSERT_TRUE(decoded.ok()) << decoded.error().ToString();
  EXPECT_EQ(decoded->status, 307);
  EXPECT_EQ(decoded->effective_url, "http://h/v2/");
  EXPECT_EQ(decoded->headers, response.headers);
  EXPECT_FALSE(DecodeHead("{\"status\":\"x\"}").ok());
}

TEST(FetchErrorTest, CodeAndMessageSurviveAndGarbageIsDataLoss) {
  Error error = DecodeError(EncodeError(Error(Code::kUnauthenticated, "token refused")));
  EXPECT_EQ(error.code(), Code::kUnauthenticated);
  EXPECT_EQ(error.message(), "token refused");
  EXPECT_EQ(DecodeError("{\"code\":99,\"message\":\"m\"}").code(), Code::kDataLoss);
  EXPECT_EQ(DecodeError("not json").code(), Code::kDataLoss);
}

}  // namespace
}  // namespace cricket::storage
