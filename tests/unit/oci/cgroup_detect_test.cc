#include "oci/cgroup_detect.h"

#include <gtest/gtest.h>

namespace cricket::oci {
namespace {

constexpr std::string_view kHybrid =
    "25 1 0:23 / /sys rw,nosuid - sysfs sysfs rw\n"
    "30 25 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n"
    "32 30 0:28 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
    "35 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    "36 30 0:32 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";

TEST(CgroupDetectTest, HybridHasV1ControllersAndUnifiedMount) {
  auto info = ParseCgroupMounts(kHybrid);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->mode, CgroupMode::kHybrid);
  EXPECT_EQ(info->unified_mount, "/sys/fs/cgroup/unified");
  ASSERT_EQ(info->v1.size(), 2u);  // name=systemd binds no controller
  EXPECT_EQ(info->v1[0].mount_point, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(info->v1[0].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ(info->v1[1].controllers, (std::vector<std::string>{"memory"}));
}

TEST(CgroupDetectTest, UnifiedOnly) {
  auto info = ParseCgroupMounts(
      "29 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->mode, CgroupMode::kV2);
  EXPECT_EQ(CgroupModeName(info->mode), "v2");
}

TEST(CgroupDetectTest, LegacyOnlyAndEscapedMountPoint) {
  auto info = ParseCgroupMounts("35 30 0:31 / /cg\\040mem rw - cgroup cgroup rw,memory\n");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->mode, CgroupMode::kV1);
  EXPECT_EQ(info->v1[0].mount_point, "/cg mem");
}

TEST(CgroupDetectTest, NoCgroupFilesystemIsAnError) {
  auto info = ParseCgroupMounts("25 1 0:23 / /sys rw - sysfs sysfs rw\n");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace cricket::oci
