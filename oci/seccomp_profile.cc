#include "oci/seccomp_profile.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>

#include "oci/json_reader.h"
#include "oci/spec_json_read.h"

namespace cricket::oci {

using Json = nlohmann::json;

namespace {

bool ReadCondition(JsonReader& r, const Json& v, const std::string& p, ProfileCondition& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "caps", out.caps);
  r.Field(v, p, "arches", out.arches);
  r.Field(v, p, "minKernel", out.min_kernel);
  return r.ok();
}

bool ReadRule(JsonReader& r, const Json& v, const std::string& p, ProfileRule& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "names", out.names);
  std::string single;  // the older {"name": "read"} form
  r.Field(v, p, "name", single);
  if (!single.empty()) {
    out.names.push_back(single);
  }
  r.Field(v, p, "action", out.action);
  r.Field(v, p, "errnoRet", out.errno_ret);
  r.Field(v, p, "args", out.args);
  if (auto it = v.find("includes"); it != v.end() && !it->is_null()) {
    ReadCondition(r, *it, p + ".includes", out.includes);
  }
  if (auto it = v.find("excludes"); it != v.end() && !it->is_null()) {
    ReadCondition(r, *it, p + ".excludes", out.excludes);
  }
  return r.ok();
}

// "6.1.0-13-amd64" -> {6, 1}.
std::pair<int, int> KernelVersion(const std::string& release) {
  int major = 0;
  int minor = 0;
  std::sscanf(release.c_str(), "%d.%d", &major, &minor);  // NOLINT(cert-err34-c): 0 on garbage is fine
  return {major, minor};
}

bool HasAll(const std::vector<std::string>& needed, const std::vector<std::string>& held) {
  return std::all_of(needed.begin(), needed.end(), [&](const std::string& c) {
    return std::find(held.begin(), held.end(), c) != held.end();
  });
}

bool HasAny(const std::vector<std::string>& some, const std::vector<std::string>& held) {
  return std::any_of(some.begin(), some.end(), [&](const std::string& c) {
    return std::find(held.begin(), held.end(), c) != held.end();
  });
}

bool Applies(const ProfileRule& rule, const std::vector<std::string>& caps,
             std::pair<int, int> kernel) {
  std::vector<std::string> arch{NativeGoArch()};
  if (!HasAll(rule.includes.caps, caps)) {
    return false;
  }
  if (!rule.includes.arches.empty() && !HasAny(rule.includes.arches, arch)) {
    return false;
  }
  if (!rule.includes.min_kernel.empty() && kernel < KernelVersion(rule.includes.min_kernel)) {
    return false;
  }
  if (HasAny(rule.excludes.caps, caps) || HasAny(rule.excludes.arches, arch)) {
    return false;
  }
  return rule.excludes.min_kernel.empty() || kernel < KernelVersion(rule.excludes.min_kernel);
}

}  // namespace

const char* NativeGoArch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__i386__)
  return "386";
#elif defined(__arm__)
  return "arm";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__powerpc64__)
  return "ppc64le";
#elif defined(__riscv)
  return "riscv64";
#else
  return "unknown";
#endif
}

std::vector<std::string> NativeArchitectures() {
#if defined(__x86_64__)
  return {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
#elif defined(__aarch64__)
  return {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
#else
  return {};
#endif
}

Result<SeccompProfile> ParseSeccompProfile(std::string_view json_text) {
  CR_ASSIGN_OR_RETURN(Json doc, ParseJsonText(json_text, "seccomp profile"));
  JsonReader r;
  SeccompProfile profile;
  if (!r.ExpectObject(doc, "")) {
    return r.status().error();
  }
  r.Field(doc, "", "defaultAction", profile.default_action);
  r.Field(doc, "", "defaultErrnoRet", profile.default_errno_ret);
  r.Field(doc, "", "architectures", profile.architectures);
  r.Field(doc, "", "flags", profile.flags);
  // Docker's archMap: the entry for this machine and its sub-architectures.
  if (auto it = doc.find("archMap"); r.ok() && it != doc.end() && it->is_array()) {
    std::vector<std::string> native = NativeArchitectures();
    for (size_t i = 0; i < it->size(); ++i) {
      std::string field = "archMap[" + std::to_string(i) + "]";
      std::string arch;
      std::vector<std::string> subs;
      r.Field((*it)[i], field, "architecture", arch);
      r.Field((*it)[i], field, "subArchitectures", subs);
      if (!native.empty() && arch == native[0]) {
        profile.architectures.push_back(arch);
        profile.architectures.insert(profile.architectures.end(), subs.begin(), subs.end());
      }
    }
  }
  if (auto it = doc.find("syscalls"); r.ok() && it != doc.end() && !it->is_null()) {
    if (!it->is_array()) {
      r.Fail("syscalls", "expected an array");
    }
    for (size_t i = 0; r.ok() && i < it->size(); ++i) {
      ProfileRule rule;
      if (ReadRule(r, (*it)[i], "syscalls[" + std::to_string(i) + "]", rule)) {
        profile.rules.push_back(std::move(rule));
      }
    }
  }
  CR_RETURN_IF_ERROR(r.status());
  if (profile.default_action.empty()) {
    return Error(Code::kInvalidArgument, "defaultAction: missing");
  }
  return profile;
}

Seccomp ResolveProfile(const SeccompProfile& profile, const std::vector<std::string>& capabilities,
                       std::string kernel_release) {
  if (kernel_release.empty()) {
    utsname uts{};
    ::uname(&uts);
    kernel_release = uts.release;
  }
  auto kernel = KernelVersion(kernel_release);
  Seccomp out;
  out.default_action = profile.default_action;
  out.default_errno_ret = profile.default_errno_ret;
  out.architectures = profile.architectures;
  out.flags = profile.flags;
  for (const auto& rule : profile.rules) {
    if (Applies(rule, capabilities, kernel)) {
      out.syscalls.push_back(SeccompSyscall{rule.names, rule.action, rule.errno_ret, rule.args});
    }
  }
  return out;
}

}  // namespace cricket::oci
