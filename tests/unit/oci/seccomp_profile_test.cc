#include "oci/seccomp_profile.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "oci/seccomp_filter.h"
#include "oci/spec_default.h"

namespace cricket::oci {
namespace {

const SeccompSyscall* FindRule(const Seccomp& s, const std::string& name) {
  for (const auto& rule : s.syscalls) {
    if (std::find(rule.names.begin(), rule.names.end(), name) != rule.names.end()) {
      return &rule;
    }
  }
  return nullptr;
}

TEST(SeccompProfileTest, RuntimeDefaultForDefaultCapabilities) {
  Seccomp s = ResolveProfile(RuntimeDefaultProfile(), DefaultCapabilities(), "6.1.0");
  EXPECT_EQ(s.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(s.default_errno_ret, 1u);
  ASSERT_NE(FindRule(s, "read"), nullptr);
  EXPECT_EQ(FindRule(s, "mount"), nullptr);
  EXPECT_EQ(FindRule(s, "unshare"), nullptr);
  EXPECT_EQ(FindRule(s, "ptrace"), nullptr);
  const SeccompSyscall* clone = FindRule(s, "clone");
  ASSERT_NE(clone, nullptr);
  ASSERT_EQ(clone->args.size(), 1u);
  EXPECT_EQ(clone->args[0].op, "SCMP_CMP_MASKED_EQ");
  const SeccompSyscall* clone3 = FindRule(s, "clone3");
  ASSERT_NE(clone3, nullptr);
  EXPECT_EQ(clone3->action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(clone3->errno_ret, 38u);
#if defined(__x86_64__)
  EXPECT_NE(FindRule(s, "arch_prctl"), nullptr);
  EXPECT_EQ(s.architectures.front(), "SCMP_ARCH_X86_64");
#endif
}

TEST(SeccompProfileTest, SysAdminUnlocksMountAndUnrestrictedClone) {
  std::vector<std::string> caps = DefaultCapabilities();
  caps.push_back("CAP_SYS_ADMIN");
  Seccomp s = ResolveProfile(RuntimeDefaultProfile(), caps, "6.1.0");
  EXPECT_NE(FindRule(s, "mount"), nullptr);
  const SeccompSyscall* clone = FindRule(s, "clone");
  ASSERT_NE(clone, nullptr);
  EXPECT_TRUE(clone->args.empty());
  EXPECT_EQ(FindRule(s, "clone3")->action, "SCMP_ACT_ALLOW");
}

TEST(SeccompProfileTest, RuntimeDefaultCompiles) {
  auto plan = TranslateSeccomp(ResolveProfile(RuntimeDefaultProfile(), DefaultCapabilities()));
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_GT(plan->rules.size(), 250u);
  auto program = CompileSeccomp(*plan);
  ASSERT_TRUE(program.ok()) << program.error().ToString();
}

TEST(SeccompProfileTest, ParsesDockerFormatWithConditions) {
  auto profile = ParseSeccompProfile(R"({
    "defaultAction": "SCMP_ACT_ERRNO",
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
                {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}],
    "syscalls": [
      {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
      {"name": "ptrace", "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
      {"names": ["reboot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_BOOT"]}},
      {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "comment": "x",
       "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}], "excludes": {"arches": ["s390x"]}}
    ]})");
  ASSERT_TRUE(profile.ok()) << profile.error().ToString();
  Seccomp old_kernel = ResolveProfile(*profile, {}, "4.4.0");
  EXPECT_EQ(FindRule(old_kernel, "ptrace"), nullptr);
  EXPECT_EQ(FindRule(old_kernel, "reboot"), nullptr);
  Seccomp s = ResolveProfile(*profile, {"CAP_SYS_BOOT"}, "5.10.0-8-amd64");
  EXPECT_NE(FindRule(s, "ptrace"), nullptr);
  EXPECT_NE(FindRule(s, "reboot"), nullptr);
  EXPECT_EQ(FindRule(s, "personality")->args[0].value, 8u);
#if defined(__x86_64__)
  EXPECT_EQ(s.architectures, (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
#endif
}

TEST(SeccompProfileTest, ParsesPlainOciSeccomp) {
  auto profile = ParseSeccompProfile(
      R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
          "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]})");
  ASSERT_TRUE(profile.ok());
  Seccomp s = ResolveProfile(*profile, {});
  EXPECT_EQ(FindRule(s, "mkdir")->errno_ret, 13u);
}

TEST(SeccompProfileTest, BadProfileNamesTheField) {
  EXPECT_EQ(ParseSeccompProfile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": "read"}]})")
                .error()
                .message(),
            "syscalls[0].names: expected an array");
  EXPECT_EQ(ParseSeccompProfile(R"({"syscalls": []})").error().message(), "defaultAction: missing");
}

}  // namespace
}  // namespace cricket::oci
