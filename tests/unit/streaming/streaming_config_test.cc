#include "cri/streaming/streaming_config.h"

#include <gtest/gtest.h>

#include "tests/support/toml_text.h"

namespace cricket::cri::streaming {
namespace {

using ::cricket::testing::ApplySectionToml;
using ::cricket::testing::RenderSection;

Result<void> ApplyStreaming(std::string_view text, std::string_view source,
                            StreamingConfig& config) {
  return ApplySectionToml(text, source, "streaming", ApplyStreamingToml, config);
}

std::string ApplyError(const std::string& toml) {
  StreamingConfig config;
  auto applied = ApplyStreaming(toml, "c.toml", config);
  return applied.ok() ? "ok" : applied.error().message();
}

// #13 item 6: the streaming server's address and connection cap.
TEST(ConfigLimitsTest, StreamingDefaultsAreLoopback) {
  StreamingConfig config;
  EXPECT_EQ(config.address, "127.0.0.1:0");
  EXPECT_EQ(config.max_connections, 128);
}

TEST(ConfigLimitsTest, ParsesStreamingKeysAndRendersThemBack) {
  StreamingConfig config;
  auto applied = ApplyStreaming("[streaming]\naddress = \"[::1]:10010\"\nmax_connections = 2\n",
                                "c.toml", config);
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  EXPECT_EQ(config.address, "[::1]:10010");
  EXPECT_EQ(config.max_connections, 2);
  StreamingConfig parsed;
  ASSERT_TRUE(
      ApplyStreaming(RenderSection("streaming", StreamingToToml(config)), "rendered", parsed).ok());
  EXPECT_EQ(parsed.address, "[::1]:10010");
  EXPECT_EQ(parsed.max_connections, 2);
}

TEST(ConfigLimitsTest, BadStreamingValuesNameTheKey) {
  EXPECT_EQ(ApplyError("[streaming]\nmax_connections = 0\n"),
            "c.toml: streaming.max_connections: expected an integer from 1 to 65536");
  EXPECT_EQ(ApplyError("[streaming]\nmax_connections = 1.5\n"),
            "c.toml: streaming.max_connections: expected an integer from 1 to 65536");
  EXPECT_EQ(ApplyError("[streaming]\naddress = \"localhost:10010\"\n"),
            "c.toml: streaming.address: expected <ip>:<port> or [<ipv6>]:<port>, got "
            "\"localhost:10010\"");
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "::1:10010",
                          "[127.0.0.1]:1", "0.0.0.0:1x"}) {
    EXPECT_NE(ApplyError(std::string("[streaming]\naddress = \"") + bad + "\"\n"), "ok") << bad;
  }
  EXPECT_EQ(ApplyError("[streaming]\naddress = 10010\n"),
            "c.toml: streaming.address: expected a string");
  EXPECT_EQ(ApplyError("[streaming]\nport = 1\n"), "c.toml: streaming.port: unknown key");
  EXPECT_EQ(ApplyError("[streaming]\naddress = \"0.0.0.0:10010\"\n"), "ok");
}

}  // namespace
}  // namespace cricket::cri::streaming
