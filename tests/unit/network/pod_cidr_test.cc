#include "network/pod_cidr.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "network/pod_cidr_file.h"
#include "tests/support/temp_dir.h"

namespace cricket::network {
namespace {

TEST(PodCidrTest, SingleIpv4Range) {
  auto cidrs = ParsePodCidrs("10.244.1.0/24");
  ASSERT_TRUE(cidrs.ok()) << cidrs.error().ToString();
  ASSERT_TRUE(cidrs->ipv4.has_value());
  EXPECT_EQ(cidrs->ipv4->ToString(), "10.244.1.0/24");
  EXPECT_FALSE(cidrs->has_ipv6);
  EXPECT_EQ(cidrs->DefaultRoutes(), std::vector<std::string>{"0.0.0.0/0"});
}

TEST(PodCidrTest, DualStackListIsSplitAndTrimmed) {
  auto cidrs = ParsePodCidrs("10.244.1.0/24, fd00:10:244:1::/64");
  ASSERT_TRUE(cidrs.ok()) << cidrs.error().ToString();
  EXPECT_EQ(cidrs->ranges, (std::vector<std::string>{"10.244.1.0/24", "fd00:10:244:1::/64"}));
  EXPECT_EQ(cidrs->ToString(), "10.244.1.0/24,fd00:10:244:1::/64");
  EXPECT_EQ(cidrs->ipv4->ToString(), "10.244.1.0/24");
  EXPECT_TRUE(cidrs->has_ipv6);
  EXPECT_EQ(cidrs->DefaultRoutes(), (std::vector<std::string>{"0.0.0.0/0", "::/0"}));
}

TEST(PodCidrTest, Ipv6OnlyHasNoIpv4Range) {
  auto cidrs = ParsePodCidrs("fd00::/64");
  ASSERT_TRUE(cidrs.ok()) << cidrs.error().ToString();
  EXPECT_FALSE(cidrs->ipv4.has_value());
  EXPECT_EQ(cidrs->DefaultRoutes(), std::vector<std::string>{"::/0"});
}

TEST(PodCidrTest, MalformedRangesNameTheRange) {
  const std::pair<const char*, const char*> cases[] = {
      {"10.244.1.0", "invalid CIDR \"10.244.1.0\": missing /prefix"},
      {"10.244.1.0/33", "invalid CIDR \"10.244.1.0/33\": prefix must be a number from 0 to 30"},
      {"10.244.1.5/24", "invalid CIDR \"10.244.1.5/24\": host bits are set"},
      {"banana/24", "invalid CIDR \"banana/24\": invalid IPv4 address \"banana\""},
      {"fd00::/129", "invalid CIDR \"fd00::/129\": prefix must be a number from 0 to 128"},
      {"fd00::1/64", "invalid CIDR \"fd00::1/64\": host bits are set"},
      {"fd00:::x/64", "invalid CIDR \"fd00:::x/64\": invalid IPv6 address"},
      {"10.244.1.0/24,", "invalid CIDR \"10.244.1.0/24,\": empty range in the list"},
  };
  for (const auto& [text, message] : cases) {
    auto cidrs = ParsePodCidrs(text);
    ASSERT_FALSE(cidrs.ok()) << text;
    EXPECT_EQ(cidrs.error().code(), Code::kInvalidArgument) << text;
    EXPECT_EQ(cidrs.error().message(), message);
  }
}

TEST(PodCidrFileTest, SavedCidrLoadsBack) {
  testing::TempDir dir;
  EXPECT_FALSE(LoadPodCidr(dir.path())->has_value());
  ASSERT_TRUE(SavePodCidr(dir.Join("net"), "10.244.1.0/24").ok());
  ASSERT_TRUE(SavePodCidr(dir.Join("net"), "10.244.2.0/24,fd00::/64").ok());
  auto loaded = LoadPodCidr(dir.Join("net"));
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  EXPECT_EQ(**loaded, "10.244.2.0/24,fd00::/64");
}

}  // namespace
}  // namespace cricket::network
