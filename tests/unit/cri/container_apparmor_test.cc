#include "cri/container_apparmor.h"

#include <optional>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace cricket::cri {
namespace {

namespace v1 = ::runtime::v1;

// A DefaultProfileLoader that counts its calls and answers `result`.
struct FakeLoader {
  Result<void> result = Ok();
  int calls = 0;
  DefaultProfileLoader fn() {
    return [this] {
      ++calls;
      return result;
    };
  }
};

Result<std::string> ProfileFor(const v1::LinuxContainerSecurityContext& sc,
                               const AppArmorHost& host) {
  FakeLoader never{Error(Code::kInternal, "the loader must not run here")};
  auto profile = AppArmorProfileFor(sc, host, never.fn());
  EXPECT_EQ(never.calls, 0);
  return profile;
}

TEST(ContainerAppArmorTest, ProfilesByTypeOnAnAppArmorNode) {
  AppArmorHost host{true, {"cricket-default", "my-profile"}};
  v1::LinuxContainerSecurityContext sc;
  EXPECT_EQ(ProfileFor(sc, host).value(), "cricket-default");  // unset = RuntimeDefault
  sc.mutable_apparmor()->set_profile_type(v1::SecurityProfile::Unconfined);
  EXPECT_EQ(ProfileFor(sc, host).value(), "");
  sc.mutable_apparmor()->set_profile_type(v1::SecurityProfile::Localhost);
  sc.mutable_apparmor()->set_localhost_ref("my-profile");
  EXPECT_EQ(ProfileFor(sc, host).value(), "my-profile");
  sc.mutable_apparmor()->set_localhost_ref("localhost/my-profile");  // critest's form
  EXPECT_EQ(ProfileFor(sc, host).value(), "my-profile");
  sc.mutable_apparmor()->set_localhost_ref("localhost/");
  EXPECT_EQ(ProfileFor(sc, host).error().code(), Code::kInvalidArgument);
  sc.mutable_apparmor()->set_localhost_ref("not-loaded");
  EXPECT_EQ(ProfileFor(sc, host).error().code(), Code::kFailedPrecondition);
  sc.mutable_apparmor()->set_localhost_ref("");
  EXPECT_EQ(ProfileFor(sc, host).error().code(), Code::kInvalidArgument);
}

TEST(ContainerAppArmorTest, TheDeprecatedStringForm) {
  AppArmorHost host{true, {"cricket-default", "p"}};
  v1::LinuxContainerSecurityContext sc;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  sc.set_apparmor_profile("runtime/default");
  EXPECT_EQ(ProfileFor(sc, host).value(), "cricket-default");
  sc.set_apparmor_profile("localhost/p");
  EXPECT_EQ(ProfileFor(sc, host).value(), "p");
  sc.set_apparmor_profile("unconfined");
  EXPECT_EQ(ProfileFor(sc, host).value(), "");
  sc.set_apparmor_profile("bogus");
  EXPECT_EQ(ProfileFor(sc, host).error().code(), Code::kInvalidArgument);
  sc.set_apparmor_profile("");
  sc.set_privileged(true);
  EXPECT_EQ(ProfileFor(sc, host).value(), "");
#pragma GCC diagnostic pop
}

TEST(ContainerAppArmorTest, WithoutAppArmorNothingIsRequired) {
  AppArmorHost host;  // disabled
  v1::LinuxContainerSecurityContext sc;
  EXPECT_EQ(ProfileFor(sc, host).value(), "");
  sc.mutable_apparmor()->set_profile_type(v1::SecurityProfile::Localhost);
  sc.mutable_apparmor()->set_localhost_ref("anything");
  EXPECT_EQ(ProfileFor(sc, host).value(), "anything");  // the runtime skips it
}

// RuntimeDefault, by node state: AppArmor on/off x cricket-default loaded or not x the loader
// succeeding or failing.
TEST(ContainerAppArmorTest, RuntimeDefaultDecisionTable) {
  struct Row {
    bool enabled;
    std::set<std::string> loaded;
    bool loader_ok;
    int want_calls;
    std::optional<std::string> want;  // nullopt: kFailedPrecondition
  };
  const Row rows[] = {
      {false, {}, true, 0, ""},   // no AppArmor: unconfined, like containerd
      {false, {}, false, 0, ""},  // ... and nothing is loaded
      {true, {"cricket-default"}, false, 0, "cricket-default"},
      {true, {"docker-default"}, true, 1, "cricket-default"},  // ours, loaded on first need
      {true, {}, true, 1, "cricket-default"},
      {true, {}, false, 1, std::nullopt},  // never unconfined in its place
      {true, {"docker-default"}, false, 1, std::nullopt},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(::testing::Message() << "enabled=" << row.enabled << " loaded="
                                      << row.loaded.size() << " loader_ok=" << row.loader_ok);
    AppArmorHost host{row.enabled, row.loaded};
    FakeLoader loader{row.loader_ok ? Result<void>(Ok())
                                    : Result<void>(Error(Code::kNotFound, "no parser here"))};
    v1::LinuxContainerSecurityContext sc;
    sc.mutable_apparmor()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
    auto profile = AppArmorProfileFor(sc, host, loader.fn());
    EXPECT_EQ(loader.calls, row.want_calls);
    if (row.want.has_value()) {
      ASSERT_TRUE(profile.ok()) << profile.error().ToString();
      EXPECT_EQ(*profile, *row.want);
    } else {
      ASSERT_FALSE(profile.ok());
      EXPECT_EQ(profile.error().code(), Code::kFailedPrecondition);
      EXPECT_NE(profile.error().message().find("\"cricket-default\""), std::string::npos);
      EXPECT_NE(profile.error().message().find("no parser here"), std::string::npos);
    }
  }
}

TEST(ContainerAppArmorTest, OnlyRuntimeDefaultLoadsTheProfile) {
  AppArmorHost host{true, {"p"}};
  v1::LinuxContainerSecurityContext sc;
  sc.mutable_apparmor()->set_profile_type(v1::SecurityProfile::Unconfined);
  EXPECT_EQ(ProfileFor(sc, host).value(), "");
  sc.mutable_apparmor()->set_profile_type(v1::SecurityProfile::Localhost);
  sc.mutable_apparmor()->set_localhost_ref("p");
  EXPECT_EQ(ProfileFor(sc, host).value(), "p");
  sc.clear_apparmor();
  sc.set_privileged(true);  // privileged without a profile: unconfined
  EXPECT_EQ(ProfileFor(sc, host).value(), "");
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
