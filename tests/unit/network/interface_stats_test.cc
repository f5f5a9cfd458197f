#include "network/interface_stats.h"

#include <gtest/gtest.h>

namespace cricket::network {
namespace {

constexpr const char* kNetDev =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n"
    "    lo:      56       1    0    0    0     0          0         0       56       1    0    "
    "0    0     0       0          0\n"
    "  eth0:    1296      16    3    5    0     0          0         0      796      10    4    "
    "6    0     0       0          0\n";

TEST(InterfaceStatsTest, ReadsBytesAndErrorsOfEachInterface) {
  auto parsed = ParseNetDev(kNetDev);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].name, "lo");
  const InterfaceCounters& eth0 = (*parsed)[1];
  EXPECT_EQ(eth0.name, "eth0");
  EXPECT_EQ(eth0.rx_bytes, 1296u);
  EXPECT_EQ(eth0.rx_errors, 3u);
  EXPECT_EQ(eth0.tx_bytes, 796u);
  EXPECT_EQ(eth0.tx_errors, 4u);
  EXPECT_EQ(eth0.rx_packets, 16u);
  EXPECT_EQ(eth0.rx_dropped, 5u);
  EXPECT_EQ(eth0.tx_packets, 10u);
  EXPECT_EQ(eth0.tx_dropped, 6u);
}

TEST(InterfaceStatsTest, ATruncatedLineIsAnErrorNamingTheInterface) {
  auto parsed = ParseNetDev("h1\nh2\n  eth0: 1 2 3\n");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code(), Code::kDataLoss);
  EXPECT_NE(parsed.error().message().find("eth0"), std::string::npos);
}

TEST(InterfaceStatsTest, ReadsThisProcesssNamespace) {
  auto counters = ReadInterfaceCounters(::getpid());
  ASSERT_TRUE(counters.ok()) << counters.error().ToString();
  bool has_lo = false;
  for (const auto& c : *counters) {
    has_lo |= c.name == "lo";
  }
  EXPECT_TRUE(has_lo);
}

}  // namespace
}  // namespace cricket::network
