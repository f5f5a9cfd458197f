#include "network/host_ranges.h"

#include <gtest/gtest.h>

namespace cricket::network {
namespace {

// A node with a default route, its LAN, a VPN route and a blackhole.
constexpr std::string_view kRoutes =
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
    "eth0\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0   \n"
    "eth0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0   \n"
    "tun0\t0000640A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0   \n"
    "cricket0\t0000580A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
    "*\t0000FEA9\t00000000\t0201\t0\t0\t0\t0000FFFF\t0\t0\t0\n";

Ipv4Cidr Cidr(const char* text) { return *Ipv4Cidr::Parse(text); }

TEST(HostRangesTest, ParsesProcNetRoute) {
  auto routes = ParseProcNetRoute(kRoutes);
  ASSERT_TRUE(routes.ok()) << routes.error().ToString();
  ASSERT_EQ(routes->size(), 5u);
  EXPECT_EQ((*routes)[0].Describe(), "route 0.0.0.0/0 dev eth0");
  EXPECT_EQ((*routes)[1].Describe(), "route 192.168.2.0/24 dev eth0");
  EXPECT_EQ((*routes)[2].Describe(), "route 10.100.0.0/16 dev tun0");
  EXPECT_EQ((*routes)[4].Describe(), "route 169.254.0.0/16 dev *");
}

TEST(HostRangesTest, BadLineIsAnError) {
  auto routes = ParseProcNetRoute("Iface\tDestination\neth0\tzz\n");
  ASSERT_FALSE(routes.ok());
  EXPECT_EQ(routes.error().code(), Code::kInvalidArgument);
}

TEST(HostRangesTest, OverlapWithARouteIsFound) {
  auto host = *ParseProcNetRoute(kRoutes);
  auto inside = FindOverlap(Cidr("10.100.5.0/24"), host, "cricket0");  // inside tun0's /16
  ASSERT_TRUE(inside.has_value());
  EXPECT_EQ(inside->Describe(), "route 10.100.0.0/16 dev tun0");
  auto around = FindOverlap(Cidr("192.168.0.0/16"), host, "cricket0");  // holds the LAN
  ASSERT_TRUE(around.has_value());
  EXPECT_EQ(around->Describe(), "route 192.168.2.0/24 dev eth0");
  EXPECT_TRUE(FindOverlap(Cidr("169.254.3.0/24"), host, "cricket0").has_value());
}

TEST(HostRangesTest, DefaultRouteAndOwnBridgeDoNotCount) {
  auto host = *ParseProcNetRoute(kRoutes);
  EXPECT_FALSE(FindOverlap(Cidr("10.244.1.0/24"), host, "cricket0").has_value());
  EXPECT_FALSE(FindOverlap(Cidr("10.88.1.0/24"), host, "cricket0").has_value());
  EXPECT_TRUE(FindOverlap(Cidr("10.88.1.0/24"), host, "other0").has_value());
}

TEST(HostRangesTest, AddressCountsWithItsSubnet) {
  HostRange address;
  address.kind = HostRange::Kind::kAddress;
  address.range = {*Ipv4::Parse("172.20.3.7"), 20};
  address.device = "br-lab";
  auto overlap = FindOverlap(Cidr("172.20.0.0/24"), {address}, "cricket0");
  ASSERT_TRUE(overlap.has_value());
  EXPECT_EQ(overlap->Describe(), "address 172.20.3.7/20 on br-lab");
  EXPECT_FALSE(FindOverlap(Cidr("172.20.16.0/24"), {address}, "cricket0").has_value());
}

TEST(HostRangesTest, ListsThisNodesLoopback) {
  auto host = ListHostRanges();
  ASSERT_TRUE(host.ok()) << host.error().ToString();
  auto overlap = FindOverlap(Cidr("127.1.0.0/16"), *host, "cricket0");
  ASSERT_TRUE(overlap.has_value());
  EXPECT_EQ(overlap->device, "lo");
}

}  // namespace
}  // namespace cricket::network
