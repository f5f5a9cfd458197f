#pragma once

// Seccomp profiles in the Docker/containerd JSON format, the format kubelet's `RuntimeDefault`
// and `Localhost` profiles come in: rules may be conditional on capabilities, architectures
// and kernel versions (includes/excludes). ResolveProfile turns a profile into the spec's
// linux.seccomp for one container, given its effective capabilities.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "oci/spec.h"

namespace cricket::oci {

struct ProfileCondition {
  std::vector<std::string> caps;    // all must be held (includes) / any held excludes
  std::vector<std::string> arches;  // Go names: amd64, 386, x32, arm64, arm, s390x, ...
  std::string min_kernel;           // "4.8"
};

struct ProfileRule {
  std::vector<std::string> names;
  std::string action;
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
  ProfileCondition includes;
  ProfileCondition excludes;
};

struct SeccompProfile {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // flattened archMap or "architectures"
  std::vector<std::string> flags;
  std::vector<ProfileRule> rules;
};

// The SCMP_ARCH_* names a filter on this machine covers (x86_64: X86_64, X86, X32), as
// Docker's archMap gives them.
std::vector<std::string> NativeArchitectures();

// This machine's architecture as Go names it in profile conditions ("amd64", "arm64", ...).
const char* NativeGoArch();

// The built-in RuntimeDefault profile: the allow list Docker and containerd ship, kept here as
// our own data (oci/seccomp_default.cc).
const SeccompProfile& RuntimeDefaultProfile();

// Parses a profile file (Docker format with archMap/includes/excludes, or a plain OCI
// linux.seccomp object). kInvalidArgument naming the field.
Result<SeccompProfile> ParseSeccompProfile(std::string_view json_text);

// The rules that apply to a container holding `capabilities` on this machine's architecture
// and kernel (`kernel_release` like "6.1.0-13-amd64"; empty: the running kernel).
Seccomp ResolveProfile(const SeccompProfile& profile, const std::vector<std::string>& capabilities,
                       std::string kernel_release = "");

}  // namespace cricket::oci
