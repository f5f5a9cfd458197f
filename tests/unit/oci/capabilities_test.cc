#include "oci/capabilities.h"

#include <linux/capability.h>

#include <gtest/gtest.h>

namespace cricket::oci {
namespace {

TEST(CapabilitiesTest, NamesBecomeMasks) {
  Capabilities caps;
  caps.bounding = {"CAP_KILL", "CAP_NET_RAW"};
  caps.effective = {"CAP_KILL"};
  caps.ambient = {"CAP_NET_BIND_SERVICE"};
  auto masks = ResolveCapabilities(caps, 40);
  ASSERT_TRUE(masks.ok());
  EXPECT_EQ(masks->bounding, (uint64_t{1} << CAP_KILL) | (uint64_t{1} << CAP_NET_RAW));
  EXPECT_EQ(masks->effective, uint64_t{1} << CAP_KILL);
  EXPECT_EQ(masks->ambient, uint64_t{1} << CAP_NET_BIND_SERVICE);
  EXPECT_EQ(masks->permitted, 0u);
}

TEST(CapabilitiesTest, UnknownNameNamesTheField) {
  Capabilities caps;
  caps.permitted = {"CAP_KILL", "CAP_FLY"};
  auto masks = ResolveCapabilities(caps, 40);
  ASSERT_FALSE(masks.ok());
  EXPECT_EQ(masks.error().message(), "process.capabilities.permitted[1]: unknown capability \"CAP_FLY\"");
}

TEST(CapabilitiesTest, CapabilitiesAboveTheKernelsLastAreSkipped) {
  Capabilities caps;
  caps.bounding = {"CAP_CHECKPOINT_RESTORE"};  // 40
  auto masks = ResolveCapabilities(caps, 39);
  ASSERT_TRUE(masks.ok());
  EXPECT_EQ(masks->bounding, 0u);
}

}  // namespace
}  // namespace cricket::oci
