#pragma once

// linux.seccomp -> a BPF program. TranslateSeccomp is pure (names to numbers, actions, operators)
// and unit-tested; CompileSeccomp asks libseccomp for the BPF the container's init loads with
// seccomp(2) right before execve (it cannot allocate or call libseccomp there).

#include <linux/filter.h>
#include <seccomp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "oci/spec.h"

namespace cricket::oci {

struct SeccompRule {
  std::string name;
  int syscall = 0;  // native number, from libseccomp's table
  uint32_t action = 0;
  std::vector<scmp_arg_cmp> args;  // ANDed together
};

struct SeccompPlan {
  uint32_t default_action = 0;
  std::vector<uint32_t> architectures;  // SCMP_ARCH_* tokens
  std::vector<SeccompRule> rules;
  unsigned int filter_flags = 0;  // SECCOMP_FILTER_FLAG_*
};

// kInvalidArgument naming the field for an unknown action, operator, architecture or flag.
// Syscall names this libseccomp does not know are skipped (profiles name syscalls of newer
// kernels); rules whose action equals the default are dropped (libseccomp refuses them).
Result<SeccompPlan> TranslateSeccomp(const Seccomp& seccomp);

// "SCMP_ACT_ERRNO" with errnoRet -> SCMP_ACT_ERRNO(errno), ...
Result<uint32_t> SeccompAction(const std::string& name, std::optional<uint32_t> errno_ret);

// The BPF program for the plan (what seccomp(SECCOMP_SET_MODE_FILTER) takes).
Result<std::vector<sock_filter>> CompileSeccomp(const SeccompPlan& plan);

}  // namespace cricket::oci
