// HttpClient runs each request in a cricket-fetch process: what happens when that process is
// missing, dies, hangs, or is cut off by its caller. (The HTTP behaviour itself, through the
// helper, is what registry_pull_test.cc exercises.)

#include "storage/http_client.h"

#include <dirent.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/integration/storage/fake_registry.h"
#include "tests/support/temp_dir.h"

namespace cricket::storage {
namespace {

using Clock = std::chrono::steady_clock;

// The processes this test process has started and not reaped, over all its threads.
std::string LiveChildren() {
  std::string out;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    out += ReadFile(task.path().string() + "/children").value_or("");
  }
  return out;
}

HttpRequest Get(const std::string& url) {
  HttpRequest request;
  request.url = url;
  request.deadline = Clock::now() + std::chrono::seconds(10);
  return request;
}

class HttpClientTest : public ::testing::Test {
 protected:
  // A layout-less fake registry that answers /big with `big_` bytes.
  testing::FakeRegistry registry_{
      "", "r", [this](const testing::FakeRequest& req, testing::FakeResponse& out) {
        out.status = req.path == "/big" ? 200 : 404;
        out.body = req.path == "/big" ? big_ : "";
        return true;
      }};
  std::string big_ = std::string(8 << 20, 'x');
  cricket::testing::TempDir dir_{"http"};
};

TEST_F(HttpClientTest, FetchesThroughTheHelper) {
  HttpClient http(CRICKET_FETCH_PATH);
  auto response = http.Do(Get("http://" + registry_.host() + "/big"), nullptr, 16 << 20);
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.size(), big_.size());
  EXPECT_EQ(response->effective_url, "http://" + registry_.host() + "/big");
  EXPECT_EQ(LiveChildren(), "");
}

TEST_F(HttpClientTest, MissingHelperIsFailedPreconditionNamingIt) {
  HttpClient http(dir_.Join("cricket-fetch"));
  auto response = http.Do(Get("http://" + registry_.host() + "/big"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(response.error().message().find(dir_.Join("cricket-fetch")), std::string::npos);
  EXPECT_EQ(LiveChildren(), "");
}

TEST_F(HttpClientTest, HelperThatEndsWithoutAnAnswerIsUnavailable) {
  HttpClient http("/bin/true");
  auto response = http.Do(Get("http://" + registry_.host() + "/big"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code(), Code::kUnavailable);
  EXPECT_NE(response.error().message().find("without an answer"), std::string::npos)
      << response.error().message();
  EXPECT_EQ(LiveChildren(), "");
}

TEST_F(HttpClientTest, HungHelperIsKilledAtTheDeadline) {
  const std::string script = dir_.Join("hang");
  ASSERT_TRUE(WriteFileAtomic(script, "#!/bin/sh\nexec sleep 60\n", 0755).ok());
  HttpClient http(script);
  HttpRequest request = Get("http://" + registry_.host() + "/big");
  request.deadline = Clock::now() + std::chrono::milliseconds(300);
  const auto start = Clock::now();
  auto response = http.Do(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code(), Code::kDeadlineExceeded);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(LiveChildren(), "");
}

TEST_F(HttpClientTest, SinkErrorStopsTheTransferAndTheHelper) {
  HttpClient http(CRICKET_FETCH_PATH);
  int64_t received = 0;
  auto response = http.Do(Get("http://" + registry_.host() + "/big"),
                          [&](const HttpResponse& head, std::string_view chunk) -> Result<void> {
                            EXPECT_EQ(head.status, 200);
                            received += static_cast<int64_t>(chunk.size());
                            return Error(Code::kDataLoss, "digest mismatch (test)");
                          });
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code(), Code::kDataLoss);
  EXPECT_EQ(response.error().message(), "digest mismatch (test)");
  EXPECT_GT(received, 0);
  EXPECT_LT(received, static_cast<int64_t>(big_.size()));
  EXPECT_EQ(LiveChildren(), "");
}

TEST_F(HttpClientTest, BodyOverTheLimitIsResourceExhausted) {
  HttpClient http(CRICKET_FETCH_PATH);
  auto response = http.Do(Get("http://" + registry_.host() + "/big"), nullptr, 1024);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code(), Code::kResourceExhausted);
  EXPECT_EQ(LiveChildren(), "");
}

TEST_F(HttpClientTest, RefusedConnectionIsUnavailableFromTheHelper) {
  HttpClient http(CRICKET_FETCH_PATH);
  auto response = http.Do(Get("http://127.0.0.1:1/v2/"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code(), Code::kUnavailable);
  EXPECT_NE(response.error().message().find("127.0.0.1:1"), std::string::npos);
}

}  // namespace
}  // namespace cricket::storage
