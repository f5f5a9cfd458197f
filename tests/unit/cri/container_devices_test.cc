#include "cri/container_devices.h"

#include <gtest/gtest.h>

#include "oci/spec_default.h"

namespace cricket::cri {
namespace {

namespace v1 = ::runtime::v1;

class ContainerDevicesTest : public ::testing::Test {
 protected:
  v1::Device& Add(const std::string& host, const std::string& ctr, const std::string& perms) {
    v1::Device& d = *config_.add_devices();
    d.set_host_path(host);
    d.set_container_path(ctr);
    d.set_permissions(perms);
    return d;
  }

  v1::ContainerConfig config_;
  oci::Spec spec_ = oci::DefaultSpec();
};

TEST_F(ContainerDevicesTest, AHostDeviceAppearsAtItsContainerPathAndTheCgroupAllowsIt) {
  Add("/dev/null", "/dev/mynull", "rw");
  size_t rules = spec_.linux->resources ? spec_.linux->resources->devices.size() : 0;
  ASSERT_TRUE(AddDevices(config_, spec_).ok());
  ASSERT_FALSE(spec_.linux->devices.empty());
  const oci::Device& d = spec_.linux->devices.back();
  EXPECT_EQ(d.path, "/dev/mynull");
  EXPECT_EQ(d.type, "c");
  EXPECT_EQ(d.major, 1);
  EXPECT_EQ(d.minor, 3);
  ASSERT_EQ(spec_.linux->resources->devices.size(), rules + 1);
  const oci::DeviceCgroup& rule = spec_.linux->resources->devices.back();
  EXPECT_TRUE(rule.allow);
  EXPECT_EQ(rule.type, "c");
  EXPECT_EQ(rule.major, 1);
  EXPECT_EQ(rule.minor, 3);
  EXPECT_EQ(rule.access, "rw");
}

TEST_F(ContainerDevicesTest, BadInputIsRefusedNamingTheField) {
  Add("/dev/null", "/dev/x", "rwx");
  auto bad_perms = AddDevices(config_, spec_);
  ASSERT_FALSE(bad_perms.ok());
  EXPECT_EQ(bad_perms.error().code(), Code::kInvalidArgument);
  EXPECT_NE(bad_perms.error().message().find("devices[0].permissions"), std::string::npos);

  config_.clear_devices();
  Add("/dev/no-such-device", "/dev/x", "r");
  auto missing = AddDevices(config_, spec_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);

  config_.clear_devices();
  Add("/etc/hostname", "/dev/x", "r");
  EXPECT_EQ(AddDevices(config_, spec_).error().code(), Code::kInvalidArgument);
}

TEST_F(ContainerDevicesTest, ADirectoryGivesEveryDeviceBelowIt) {
  auto below = DevicesBelow("/dev", "/host-dev");
  ASSERT_TRUE(below.ok()) << below.error().ToString();
  bool has_null = false;
  for (const auto& d : *below) {
    has_null |= d.path == "/host-dev/null";
    EXPECT_EQ(d.path.find("/host-dev/pts/"), std::string::npos) << d.path;
  }
  EXPECT_TRUE(has_null);
}

}  // namespace
}  // namespace cricket::cri
