#include "oci/seccomp_filter.h"

#include <sys/syscall.h>

#include <gtest/gtest.h>

namespace cricket::oci {
namespace {

TEST(SeccompFilterTest, TranslatesActionsArgsAndArchitectures) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.default_errno_ret = 38;
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"};
  s.flags = {"SECCOMP_FILTER_FLAG_LOG"};
  s.syscalls.push_back(SeccompSyscall{{"read", "write", "no_such_syscall_xyz"}, "SCMP_ACT_ALLOW", {}, {}});
  s.syscalls.push_back(SeccompSyscall{
      {"personality"}, "SCMP_ACT_ALLOW", {}, {SeccompArg{0, 0xffffffff, 0, "SCMP_CMP_EQ"}}});
  auto plan = TranslateSeccomp(s);
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_EQ(plan->default_action, SCMP_ACT_ERRNO(38));
  EXPECT_EQ(plan->architectures, (std::vector<uint32_t>{SCMP_ARCH_X86_64, SCMP_ARCH_X86}));
  EXPECT_EQ(plan->filter_flags, 2u);
  ASSERT_EQ(plan->rules.size(), 3u);  // the unknown name is skipped
  EXPECT_EQ(plan->rules[0].syscall, SYS_read);
  EXPECT_EQ(plan->rules[0].action, SCMP_ACT_ALLOW);
  ASSERT_EQ(plan->rules[2].args.size(), 1u);
  EXPECT_EQ(plan->rules[2].args[0].op, SCMP_CMP_EQ);
  EXPECT_EQ(plan->rules[2].args[0].datum_a, 0xffffffffu);
}

TEST(SeccompFilterTest, SameArgumentTwiceMakesSeparateRules) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.syscalls.push_back(SeccompSyscall{{"personality"}, "SCMP_ACT_ALLOW", {},
                                      {SeccompArg{0, 0, 0, "SCMP_CMP_EQ"},
                                       SeccompArg{0, 8, 0, "SCMP_CMP_EQ"}}});
  auto plan = TranslateSeccomp(s);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->rules.size(), 2u);
  EXPECT_EQ(plan->rules[1].args[0].datum_a, 8u);
}

TEST(SeccompFilterTest, ErrnoDefaultsToEpermAndRulesLikeTheDefaultAreDropped) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.syscalls.push_back(SeccompSyscall{{"mkdir"}, "SCMP_ACT_ERRNO", {}, {}});
  s.syscalls.push_back(SeccompSyscall{{"read"}, "SCMP_ACT_ALLOW", {}, {}});
  auto plan = TranslateSeccomp(s);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->rules.size(), 1u);
  EXPECT_EQ(plan->rules[0].action, SCMP_ACT_ERRNO(EPERM));
}

TEST(SeccompFilterTest, ErrorsNameTheField) {
  Seccomp s;
  s.default_action = "SCMP_ACT_BOGUS";
  EXPECT_EQ(TranslateSeccomp(s).error().message(),
            "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_BOGUS\"");
  s.default_action = "SCMP_ACT_ALLOW";
  s.architectures = {"SCMP_ARCH_Z80"};
  EXPECT_EQ(TranslateSeccomp(s).error().message(),
            "linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_Z80\"");
  s.architectures.clear();
  s.syscalls.push_back(SeccompSyscall{{"read"}, "SCMP_ACT_ERRNO", {}, {SeccompArg{0, 0, 0, "SCMP_CMP_SOMETIMES"}}});
  EXPECT_EQ(TranslateSeccomp(s).error().message(),
            "linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_SOMETIMES\"");
}

TEST(SeccompFilterTest, CompilesToBpf) {
  Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.syscalls.push_back(SeccompSyscall{{"mkdir"}, "SCMP_ACT_ERRNO", 1, {}});
  auto plan = TranslateSeccomp(s);
  ASSERT_TRUE(plan.ok());
  auto program = CompileSeccomp(*plan);
  ASSERT_TRUE(program.ok()) << program.error().ToString();
  EXPECT_GT(program->size(), 3u);
}

}  // namespace
}  // namespace cricket::oci
