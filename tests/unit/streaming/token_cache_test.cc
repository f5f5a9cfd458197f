#include "cri/streaming/token_cache.h"

#include <set>

#include <gtest/gtest.h>

namespace cricket::cri::streaming {
namespace {

using std::chrono::milliseconds;
using TimePoint = std::chrono::steady_clock::time_point;

struct FakeClock {
  TimePoint now{};
  TokenCache::Clock fn() {
    return [this] { return now; };
  }
};

TEST(TokenCacheTest, TokenIsSingleUse) {
  FakeClock clock;
  TokenCache cache(milliseconds(60000), 10, clock.fn());
  auto token = cache.Insert(ExecRequest{"c", {"true"}, false, false, true, false});
  ASSERT_TRUE(token.ok());
  auto first = cache.Consume(*token);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(std::get<ExecRequest>(*first).container_id, "c");
  EXPECT_FALSE(cache.Consume(*token).has_value());
}

TEST(TokenCacheTest, TokenExpires) {
  FakeClock clock;
  TokenCache cache(milliseconds(60000), 10, clock.fn());
  auto token = cache.Insert(AttachRequest{"c", false, false, true, false});
  ASSERT_TRUE(token.ok());
  clock.now += milliseconds(60000);
  EXPECT_FALSE(cache.Consume(*token).has_value());
}

TEST(TokenCacheTest, TokensAreRandomAndUnguessable) {
  TokenCache cache(milliseconds(60000), 1000);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto token = cache.Insert(PortForwardRequest{"p", {}});
    ASSERT_TRUE(token.ok());
    EXPECT_EQ(token->size(), 32u);
    EXPECT_TRUE(seen.insert(*token).second);
  }
  EXPECT_FALSE(cache.Consume("0123456789abcdef0123456789abcdef").has_value());
}

TEST(TokenCacheTest, RefusesBeyondLimitUntilTokensExpire) {
  FakeClock clock;
  TokenCache cache(milliseconds(1000), 2, clock.fn());
  ASSERT_TRUE(cache.Insert(ExecRequest{}).ok());
  ASSERT_TRUE(cache.Insert(ExecRequest{}).ok());
  auto third = cache.Insert(ExecRequest{});
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code(), Code::kResourceExhausted);
  clock.now += milliseconds(1000);
  EXPECT_TRUE(cache.Insert(ExecRequest{}).ok());
}

}  // namespace
}  // namespace cricket::cri::streaming
