#include "network/ipv4.h"

#include <gtest/gtest.h>

namespace cricket::network {
namespace {

TEST(Ipv4Test, ParsesAndPrints) {
  auto ip = Ipv4::Parse("10.88.0.1");
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->value, 0x0a580001u);
  EXPECT_EQ(ip->ToString(), "10.88.0.1");
  EXPECT_FALSE(Ipv4::Parse("10.88.0").ok());
  EXPECT_FALSE(Ipv4::Parse("::1").ok());
}

TEST(Ipv4CidrTest, DerivesGatewayAndBroadcast) {
  auto cidr = Ipv4Cidr::Parse("10.88.0.0/16");
  ASSERT_TRUE(cidr.ok());
  EXPECT_EQ(cidr->gateway().ToString(), "10.88.0.1");
  EXPECT_EQ(cidr->broadcast().ToString(), "10.88.255.255");
  EXPECT_TRUE(cidr->Contains(*Ipv4::Parse("10.88.3.4")));
  EXPECT_FALSE(cidr->Contains(*Ipv4::Parse("10.89.0.1")));
  EXPECT_EQ(cidr->ToString(), "10.88.0.0/16");
}

TEST(Ipv4CidrTest, RefusesBadRangesWithReason) {
  EXPECT_EQ(Ipv4Cidr::Parse("10.88.0.0").error().message(),
            "invalid CIDR \"10.88.0.0\": missing /prefix");
  EXPECT_EQ(Ipv4Cidr::Parse("10.88.0.1/16").error().message(),
            "invalid CIDR \"10.88.0.1/16\": host bits are set");
  EXPECT_EQ(Ipv4Cidr::Parse("10.88.0.0/31").error().message(),
            "invalid CIDR \"10.88.0.0/31\": prefix must be a number from 0 to 30");
  EXPECT_EQ(Ipv4Cidr::Parse("10.88.0.0/x").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(Ipv4Cidr::Parse("10.300.0.0/16").error().message(),
            "invalid CIDR \"10.300.0.0/16\": invalid IPv4 address \"10.300.0.0\"");
}

}  // namespace
}  // namespace cricket::network
