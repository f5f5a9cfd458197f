#include "cri/apparmor_profiles.h"

#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/subprocess.h"
#include "cri/apparmor_default_profile.h"
#include "tests/support/temp_dir.h"

namespace cricket::cri {
namespace {

namespace v1 = ::runtime::v1;

// A node in a temp dir: the module parameter, the profiles list and a stand-in apparmor_parser
// (a shell script) that records its arguments and stdin and "loads" by appending to the list.
class AppArmorProfilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(WriteFileAtomic(dir_.Join("enabled"), "Y\n", 0644).ok());
    ASSERT_TRUE(WriteFileAtomic(dir_.Join("profiles"), "docker-default (enforce)\n", 0644).ok());
  }

  void WriteParser(const std::string& body) {
    ASSERT_TRUE(WriteFileAtomic(dir_.Join("parser"), "#!/bin/sh\n" + body, 0755).ok());
  }

  AppArmorProfiles Profiles(const std::string& parser) {
    return AppArmorProfiles(parser, dir_.Join("enabled"), dir_.Join("profiles"));
  }

  static v1::LinuxContainerSecurityContext RuntimeDefault() {
    v1::LinuxContainerSecurityContext sc;
    sc.mutable_apparmor()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
    return sc;
  }

  ::cricket::testing::TempDir dir_;
};

TEST_F(AppArmorProfilesTest, LoadsTheDefaultOnceWithReplaceAndNoCache) {
  WriteParser("echo \"$@\" >> " + dir_.Join("args") + "\ncat > " + dir_.Join("stdin") +
              "\necho 'cricket-default (enforce)' >> " + dir_.Join("profiles") + "\n");
  AppArmorProfiles profiles = Profiles(dir_.Join("parser"));
  EXPECT_EQ(profiles.ProfileFor(RuntimeDefault()).value(), "cricket-default");
  EXPECT_EQ(profiles.ProfileFor(RuntimeDefault()).value(), "cricket-default");
  EXPECT_EQ(ReadFile(dir_.Join("args")).value_or(""), "-Kr\n");  // once
  EXPECT_EQ(ReadFile(dir_.Join("stdin")).value_or(""), DefaultAppArmorProfileText());
}

TEST_F(AppArmorProfilesTest, AMissingParserRefusesRuntimeDefault) {
  AppArmorProfiles profiles = Profiles(dir_.Join("no-such-parser"));
  auto profile = profiles.ProfileFor(RuntimeDefault());
  ASSERT_FALSE(profile.ok());
  EXPECT_EQ(profile.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(profile.error().message().find("cricket-default"), std::string::npos);
  EXPECT_NE(profile.error().message().find("no-such-parser"), std::string::npos);
  // Unconfined does not need the parser.
  v1::LinuxContainerSecurityContext sc;
  sc.mutable_apparmor()->set_profile_type(v1::SecurityProfile::Unconfined);
  EXPECT_EQ(profiles.ProfileFor(sc).value(), "");
}

TEST_F(AppArmorProfilesTest, AParserErrorIsReportedWithItsMessage) {
  WriteParser("cat > /dev/null\necho 'AppArmor parser error: bad rule' >&2\nexit 1\n");
  auto profile = Profiles(dir_.Join("parser")).ProfileFor(RuntimeDefault());
  ASSERT_FALSE(profile.ok());
  EXPECT_EQ(profile.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(profile.error().message().find("AppArmor parser error: bad rule"), std::string::npos)
      << profile.error().message();
  EXPECT_NE(profile.error().message().find("exit 1"), std::string::npos);
}

TEST_F(AppArmorProfilesTest, WithoutAppArmorNothingIsLoaded) {
  ASSERT_TRUE(WriteFileAtomic(dir_.Join("enabled"), "N\n", 0644).ok());
  AppArmorProfiles profiles = Profiles(dir_.Join("no-such-parser"));
  EXPECT_EQ(profiles.ProfileFor(RuntimeDefault()).value(), "");
}

// The shipped text compiles (apparmor_parser -QK: parse and compile, load nothing), where the
// parser is installed (hack/packages.d/oci.list).
TEST(DefaultAppArmorProfileTest, Compiles) {
  const std::string parser = "/sbin/apparmor_parser";
  if (::access(parser.c_str(), X_OK) != 0) {
    GTEST_SKIP() << "needs " << parser << " (apt-get install apparmor)";
  }
  SubprocessOptions options;
  options.stdin_data = std::string(DefaultAppArmorProfileText());
  auto run = RunSubprocess({parser, "-QK"}, options);
  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(run->exit_code, 0) << run->err;
}

}  // namespace
}  // namespace cricket::cri
