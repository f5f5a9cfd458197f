#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "oci/seccomp_profile.h"
#include "tests/integration/oci/container_fixture.h"

namespace cricket::oci::testing {
namespace {

class SecurityTest : public ContainerTest {};

std::string Line(const std::string& text, const std::string& key) {
  size_t at = text.find(key);
  if (at == std::string::npos) {
    return "";
  }
  return text.substr(at, text.find('\n', at) - at);
}

TEST_F(SecurityTest, DroppedCapabilityIsMissing) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("grep Cap /proc/self/status > /out/log; ping -c1 -W1 127.0.0.1 >/dev/null 2>&1 || echo noping >> /out/log");
  for (auto* set : {&spec.process->capabilities->bounding, &spec.process->capabilities->effective,
                    &spec.process->capabilities->permitted}) {
    std::erase(*set, "CAP_NET_RAW");
  }
  auto result = Run(spec);
  // The default set minus CAP_NET_RAW (bit 13): 0xa80405fb & ~0x2000.
  EXPECT_EQ(Line(result.out, "CapEff"), "CapEff:\t00000000a80405fb");
  EXPECT_EQ(Line(result.out, "CapBnd"), "CapBnd:\t00000000a80405fb");
  EXPECT_NE(result.out.find("noping"), std::string::npos);
}

TEST_F(SecurityTest, DefaultCapabilitiesAllowPing) {
  CR_REQUIRE_ROOT();
  auto result = Run(MakeSpec("grep CapEff /proc/self/status > /out/log"));
  EXPECT_EQ(result.out, "CapEff:\t00000000a80425fb\n");
}

TEST_F(SecurityTest, SeccompDeniesWithConfiguredErrno) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("mkdir /tmp/blocked 2> /out/log; echo $? >> /out/log; echo ok > /tmp/file && cat /tmp/file >> /out/log");
  Seccomp& seccomp = spec.linux->seccomp.emplace();
  seccomp.default_action = "SCMP_ACT_ALLOW";
  seccomp.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"};
  seccomp.syscalls.push_back(SeccompSyscall{{"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", 95, {}});
  auto result = Run(spec);
  EXPECT_NE(result.out.find("not supported"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\n1\nok\n"), std::string::npos) << result.out;
}

TEST_F(SecurityTest, RuntimeDefaultProfileBlocksNamespaceCreation) {
  CR_REQUIRE_ROOT();
  const char* script =
      "unshare -U true 2>/dev/null && echo unshared > /out/log || echo blocked > /out/log; "
      "ls / >/dev/null && echo ls-ok >> /out/log";
  auto open = Run(MakeSpec(script), "open");
  EXPECT_EQ(open.out, "unshared\nls-ok\n");
  Spec spec = MakeSpec(script);
  spec.linux->seccomp = ResolveProfile(RuntimeDefaultProfile(), spec.process->capabilities->effective);
  auto confined = Run(spec, "confined");
  EXPECT_EQ(confined.out, "blocked\nls-ok\n");
}

TEST_F(SecurityTest, LocalhostProfileFromFile) {
  CR_REQUIRE_ROOT();
  auto profile = ParseSeccompProfile(
      R"({"defaultAction": "SCMP_ACT_ALLOW",
          "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]})");
  ASSERT_TRUE(profile.ok()) << profile.error().ToString();
  Spec spec = MakeSpec("mkdir /tmp/x 2> /out/log; true");
  spec.linux->seccomp = ResolveProfile(*profile, {});
  auto result = Run(spec);
  EXPECT_NE(result.out.find("Permission denied"), std::string::npos) << result.out;
}

TEST_F(SecurityTest, SeccompWithoutNoNewPrivileges) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("mkdir /tmp/blocked 2> /out/log; echo $? >> /out/log");
  spec.process->no_new_privileges = false;
  Seccomp& seccomp = spec.linux->seccomp.emplace();
  seccomp.default_action = "SCMP_ACT_ALLOW";
  seccomp.syscalls.push_back(SeccompSyscall{{"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", 1, {}});
  auto result = Run(spec);
  EXPECT_NE(result.out.find("not permitted"), std::string::npos) << result.out;
}

TEST_F(SecurityTest, UidGidAdditionalGidsAndUmask) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("grep -E '^(Uid|Gid|Groups)' /proc/self/status > /out/log; umask >> /out/log");
  spec.process->user.uid = 1000;
  spec.process->user.gid = 1001;
  spec.process->user.additional_gids = {2000, 3000};
  spec.process->user.umask = 027;
  auto result = Run(spec);
  EXPECT_EQ(Line(result.out, "Uid"), "Uid:\t1000\t1000\t1000\t1000");
  EXPECT_EQ(Line(result.out, "Gid"), "Gid:\t1001\t1001\t1001\t1001");
  EXPECT_EQ(Line(result.out, "Groups"), "Groups:\t2000 3000 ");
  EXPECT_NE(result.out.find("0027"), std::string::npos) << result.out;
}

TEST_F(SecurityTest, LsmLabelsAreSkippedWhereTheLsmIsOff) {
  CR_REQUIRE_ROOT();
  if (std::filesystem::exists("/sys/module/apparmor/parameters/enabled") ||
      std::filesystem::exists("/sys/fs/selinux/enforce")) {
    GTEST_SKIP() << "this node runs AppArmor or SELinux";
  }
  Spec spec = MakeSpec("echo ran > /out/log");
  spec.process->apparmor_profile = "cricket-default";
  spec.process->selinux_label = "system_u:system_r:container_t:s0";
  auto result = Run(spec);
  EXPECT_EQ(result.out, "ran\n");
}

TEST_F(SecurityTest, NoNewPrivsIsSet) {
  CR_REQUIRE_ROOT();
  auto result = Run(MakeSpec("grep NoNewPrivs /proc/self/status > /out/log"));
  EXPECT_EQ(result.out, "NoNewPrivs:\t1\n");
}

}  // namespace
}  // namespace cricket::oci::testing
