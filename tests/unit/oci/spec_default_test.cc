#include "oci/spec_default.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "oci/spec_json.h"

namespace cricket::oci {
namespace {

bool HasMount(const Spec& spec, const std::string& destination, const std::string& type) {
  return std::any_of(spec.mounts.begin(), spec.mounts.end(), [&](const Mount& m) {
    return m.destination == destination && m.type == type;
  });
}

TEST(SpecDefaultTest, HasTheStandardMounts) {
  Spec spec = DefaultSpec();
  EXPECT_TRUE(HasMount(spec, "/proc", "proc"));
  EXPECT_TRUE(HasMount(spec, "/dev", "tmpfs"));
  EXPECT_TRUE(HasMount(spec, "/dev/pts", "devpts"));
  EXPECT_TRUE(HasMount(spec, "/dev/shm", "tmpfs"));
  EXPECT_TRUE(HasMount(spec, "/dev/mqueue", "mqueue"));
  EXPECT_TRUE(HasMount(spec, "/sys", "sysfs"));
  EXPECT_TRUE(HasMount(spec, "/sys/fs/cgroup", "cgroup"));
}

TEST(SpecDefaultTest, SecurityDefaults) {
  Spec spec = DefaultSpec();
  EXPECT_TRUE(spec.process->no_new_privileges);
  EXPECT_EQ(spec.process->capabilities->bounding.size(), 14u);
  EXPECT_EQ(std::count(spec.process->capabilities->effective.begin(),
                       spec.process->capabilities->effective.end(), "CAP_SYS_ADMIN"),
            0);
  const auto& masked = spec.linux->masked_paths;
  EXPECT_NE(std::find(masked.begin(), masked.end(), "/proc/kcore"), masked.end());
  const auto& ro = spec.linux->readonly_paths;
  EXPECT_NE(std::find(ro.begin(), ro.end(), "/proc/sys"), ro.end());
  const auto& rules = spec.linux->resources->devices;
  ASSERT_FALSE(rules.empty());
  EXPECT_FALSE(rules[0].allow);
  EXPECT_EQ(rules[0].access, "rwm");
}

TEST(SpecDefaultTest, DefaultDevicesAreTheUsualSix) {
  ASSERT_EQ(DefaultDevices().size(), 6u);
  EXPECT_EQ(DefaultDevices()[0].path, "/dev/null");
  EXPECT_EQ(DefaultDevices()[0].major, 1);
  EXPECT_EQ(DefaultDevices()[0].minor, 3);
}

TEST(SpecDefaultTest, SurvivesJsonRoundTrip) {
  std::string text = SpecToJson(DefaultSpec());
  auto parsed = ParseSpec(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(SpecToJson(*parsed), text);
}

}  // namespace
}  // namespace cricket::oci
