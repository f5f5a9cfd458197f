#include "cri/container_apparmor.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace cricket::cri {
namespace {

namespace v1 = ::runtime::v1;

TEST(ContainerAppArmorTest, ProfilesByTypeOnAnAppArmorNode) {
  AppArmorHost host{true, {"cricket-default", "my-profile"}};
  v1::LinuxContainerSecurityContext sc;
  EXPECT_EQ(AppArmorProfileFor(sc, host).value(), "cricket-default");  // unset = RuntimeDefault
  sc.mutable_apparmor()->set_profile_type(v1::SecurityProfile::Unconfined);
  EXPECT_EQ(AppArmorProfileFor(sc, host).value(), "");
  sc.mutable_apparmor()->set_profile_type(v1::SecurityProfile::Localhost);
  sc.mutable_apparmor()->set_localhost_ref("my-profile");
  EXPECT_EQ(AppArmorProfileFor(sc, host).value(), "my-profile");
  sc.mutable_apparmor()->set_localhost_ref("not-loaded");
  EXPECT_EQ(AppArmorProfileFor(sc, host).error().code(), Code::kFailedPrecondition);
  sc.mutable_apparmor()->set_localhost_ref("");
  EXPECT_EQ(AppArmorProfileFor(sc, host).error().code(), Code::kInvalidArgument);
}

TEST(ContainerAppArmorTest, TheDeprecatedStringForm) {
  AppArmorHost host{true, {"docker-default", "p"}};
  v1::LinuxContainerSecurityContext sc;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  sc.set_apparmor_profile("runtime/default");
  EXPECT_EQ(AppArmorProfileFor(sc, host).value(), "docker-default");
  sc.set_apparmor_profile("localhost/p");
  EXPECT_EQ(AppArmorProfileFor(sc, host).value(), "p");
  sc.set_apparmor_profile("unconfined");
  EXPECT_EQ(AppArmorProfileFor(sc, host).value(), "");
  sc.set_apparmor_profile("bogus");
  EXPECT_EQ(AppArmorProfileFor(sc, host).error().code(), Code::kInvalidArgument);
  sc.set_apparmor_profile("");
  sc.set_privileged(true);
  EXPECT_EQ(AppArmorProfileFor(sc, host).value(), "");
#pragma GCC diagnostic pop
}

TEST(ContainerAppArmorTest, WithoutAppArmorNothingIsRequired) {
  AppArmorHost host;  // disabled
  v1::LinuxContainerSecurityContext sc;
  EXPECT_EQ(AppArmorProfileFor(sc, host).value(), "");
  sc.mutable_apparmor()->set_profile_type(v1::SecurityProfile::Localhost);
  sc.mutable_apparmor()->set_localhost_ref("anything");
  EXPECT_EQ(AppArmorProfileFor(sc, host).value(), "anything");  // the runtime skips it
}

TEST(ContainerAppArmorTest, ReadsTheHostFromSecurityfs) {
  ::cricket::testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.Join("enabled"), "Y\n", 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(dir.Join("profiles"),
                              "docker-default (enforce)\n/usr/bin/man (complain)\n", 0644)
                  .ok());
  AppArmorHost host = ReadAppArmorHost(dir.Join("enabled"), dir.Join("profiles"));
  EXPECT_TRUE(host.enabled);
  EXPECT_TRUE(host.loaded.contains("docker-default"));
  EXPECT_TRUE(host.loaded.contains("/usr/bin/man"));
  EXPECT_FALSE(ReadAppArmorHost(dir.Join("missing"), dir.Join("profiles")).enabled);
}

}  // namespace
}  // namespace cricket::cri
