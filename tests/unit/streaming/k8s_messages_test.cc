#include "cri/streaming/k8s_messages.h"

#include <gtest/gtest.h>

#include "cri/streaming/http_upgrade.h"
#include "cri/streaming/streaming_client.h"

namespace cricket::cri::streaming {
namespace {

TEST(StatusJsonTest, SuccessMatchesKubelet) {
  EXPECT_EQ(StatusJson(ExecOutcome{0, ""}, {"true"}), R"({"metadata":{},"status":"Success"})");
  EXPECT_EQ(StatusText(ExecOutcome{0, ""}, {"true"}), "");
}

TEST(StatusJsonTest, NonZeroExitCarriesExitCodeCause) {
  std::string json = StatusJson(ExecOutcome{3, ""}, {"sh", "-c", "exit 3"});
  EXPECT_EQ(
      json,
      R"({"metadata":{},"status":"Failure","message":"command terminated with non-zero )"
      R"(exit code: error executing command [sh -c exit 3], exit code 3",)"
      R"("reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}})");
  EXPECT_EQ(ExitCodeFromStatus(json), 3);
  EXPECT_NE(StatusText(ExecOutcome{3, ""}, {"x"}).find("exit code 3"), std::string::npos);
}

TEST(StatusJsonTest, InvalidUtf8InCommandDoesNotThrow) {
  std::string json = StatusJson(ExecOutcome{1, ""}, {"printf", "\xff\xfe"});
  EXPECT_EQ(ExitCodeFromStatus(json), 1);
}

TEST(StatusJsonTest, RuntimeErrorIsInternalError) {
  std::string json = StatusJson(ExecOutcome{std::nullopt, "NOT_FOUND: no container"}, {"x"});
  EXPECT_NE(json.find(R"("reason":"InternalError")"), std::string::npos);
  EXPECT_NE(json.find(R"("code":500)"), std::string::npos);
  EXPECT_FALSE(ExitCodeFromStatus(json).has_value());
}

TEST(StatusJsonTest, ExitCodeParserToleratesOddTypes) {
  EXPECT_FALSE(ExitCodeFromStatus(R"({"status":5})").has_value());
  EXPECT_FALSE(ExitCodeFromStatus(R"({"reason":"NonZeroExitCode","details":[]})").has_value());
  EXPECT_FALSE(
      ExitCodeFromStatus(
          R"({"reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":7}]}})")
          .has_value());
  EXPECT_FALSE(ExitCodeFromStatus("not json").has_value());
}

TEST(ResizeDecoderTest, SplitsConcatenatedObjectsAcrossChunks) {
  ResizeDecoder decoder;
  auto a = decoder.Feed(R"({"Width":80,"Hei)");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->empty());
  auto b = decoder.Feed("ght\":24}\n{\"Width\":100,\"Height\":40}{\"Height\":1,\"Width\":2}");
  ASSERT_TRUE(b.ok());
  std::vector<TerminalSize> want = {{80, 24}, {100, 40}, {2, 1}};
  EXPECT_EQ(*b, want);
}

TEST(ResizeDecoderTest, RejectsGarbage) {
  ResizeDecoder decoder;
  EXPECT_FALSE(decoder.Feed("[1,2]").ok());
  ResizeDecoder other;
  EXPECT_FALSE(other.Feed(R"({"Width":})").ok());
}

TEST(HttpUpgradeTest, NegotiatesInClientOrder) {
  std::vector<std::string> server = {"v4.channel.k8s.io", "v3.channel.k8s.io", "channel.k8s.io"};
  EXPECT_EQ(
      NegotiateProtocol({"v5.channel.k8s.io", "v3.channel.k8s.io", "v4.channel.k8s.io"}, server),
      "v3.channel.k8s.io");
  EXPECT_EQ(NegotiateProtocol({"v9"}, server), "");
  std::vector<std::string> split = {"v5.channel.k8s.io", "v4.channel.k8s.io"};
  EXPECT_EQ(SplitHeaderList(" v5.channel.k8s.io ,v4.channel.k8s.io,, "), split);
}

}  // namespace
}  // namespace cricket::cri::streaming
