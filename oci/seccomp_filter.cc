#include "oci/seccomp_filter.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <memory>
#include <set>

#include "common/unique_fd.h"

namespace cricket::oci {
namespace {

Error Invalid(const std::string& field, const std::string& what) {
  return Error(Code::kInvalidArgument, field + ": " + what);
}

Result<scmp_compare> CompareOp(const std::string& op) {
  struct Entry {
    const char* name;
    scmp_compare op;
  };
  static constexpr Entry kOps[] = {
      {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
      {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
      {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  for (const auto& e : kOps) {
    if (op == e.name) {
      return e.op;
    }
  }
  return Error(Code::kInvalidArgument, "unknown operator \"" + op + "\"");
}

Result<uint32_t> Architecture(const std::string& name) {
  constexpr std::string_view kPrefix = "SCMP_ARCH_";
  if (name.rfind(kPrefix, 0) != 0) {
    return Error(Code::kInvalidArgument, "unknown architecture \"" + name + "\"");
  }
  std::string lower = name.substr(kPrefix.size());
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  uint32_t arch = seccomp_arch_resolve_name(lower.c_str());
  if (arch == 0) {
    return Error(Code::kInvalidArgument, "unknown architecture \"" + name + "\"");
  }
  return arch;
}

Result<unsigned int> FilterFlag(const std::string& name) {
  if (name == "SECCOMP_FILTER_FLAG_TSYNC") {
    return 1u;
  }
  if (name == "SECCOMP_FILTER_FLAG_LOG") {
    return 2u;
  }
  if (name == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") {
    return 4u;
  }
  return Error(Code::kInvalidArgument, "unknown flag \"" + name + "\"");
}

// OCI (as runc reads it): arguments of one entry are ANDed, except that several conditions on
// the same argument index each make a rule of their own (ORed), since one libseccomp rule
// cannot test an argument twice.
Result<std::vector<std::vector<scmp_arg_cmp>>> ArgGroups(const SeccompSyscall& entry,
                                                         const std::string& field) {
  std::vector<scmp_arg_cmp> all;
  std::set<uint32_t> indexes;
  for (size_t i = 0; i < entry.args.size(); ++i) {
    const SeccompArg& a = entry.args[i];
    std::string arg_field = field + ".args[" + std::to_string(i) + "]";
    if (a.index > 5) {
      return Invalid(arg_field + ".index", "must be 0..5");
    }
    auto op = CompareOp(a.op);
    if (!op.ok()) {
      return Invalid(arg_field + ".op", op.error().message());
    }
    all.push_back(scmp_arg_cmp{a.index, *op, a.value, a.value_two});
    indexes.insert(a.index);
  }
  if (indexes.size() == all.size()) {
    return std::vector<std::vector<scmp_arg_cmp>>{all};
  }
  std::vector<std::vector<scmp_arg_cmp>> groups;
  for (const auto& cmp : all) {
    groups.push_back({cmp});
  }
  return groups;
}

}  // namespace

Result<uint32_t> SeccompAction(const std::string& name, std::optional<uint32_t> errno_ret) {
  uint32_t err = errno_ret.value_or(EPERM);
  if (name == "SCMP_ACT_ALLOW") {
    return SCMP_ACT_ALLOW;
  }
  if (name == "SCMP_ACT_ERRNO") {
    return SCMP_ACT_ERRNO(err);
  }
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") {
    return SCMP_ACT_KILL_THREAD;
  }
  if (name == "SCMP_ACT_KILL_PROCESS") {
    return SCMP_ACT_KILL_PROCESS;
  }
  if (name == "SCMP_ACT_TRAP") {
    return SCMP_ACT_TRAP;
  }
  if (name == "SCMP_ACT_TRACE") {
    return SCMP_ACT_TRACE(err);
  }
  if (name == "SCMP_ACT_LOG") {
    return SCMP_ACT_LOG;
  }
  if (name == "SCMP_ACT_NOTIFY") {
    return Error(Code::kUnimplemented, "action SCMP_ACT_NOTIFY is not supported");
  }
  return Error(Code::kInvalidArgument, "unknown action \"" + name + "\"");
}

Result<SeccompPlan> TranslateSeccomp(const Seccomp& seccomp) {
  SeccompPlan plan;
  auto def = SeccompAction(seccomp.default_action, seccomp.default_errno_ret);
  if (!def.ok()) {
    return def.error().Wrap("linux.seccomp.defaultAction");
  }
  plan.default_action = *def;
  for (size_t i = 0; i < seccomp.architectures.size(); ++i) {
    auto arch = Architecture(seccomp.architectures[i]);
    if (!arch.ok()) {
      return arch.error().Wrap("linux.seccomp.architectures[" + std::to_string(i) + "]");
    }
    plan.architectures.push_back(*arch);
  }
  for (size_t i = 0; i < seccomp.flags.size(); ++i) {
    auto flag = FilterFlag(seccomp.flags[i]);
    if (!flag.ok()) {
      return flag.error().Wrap("linux.seccomp.flags[" + std::to_string(i) + "]");
    }
    plan.filter_flags |= *flag;
  }
  for (size_t i = 0; i < seccomp.syscalls.size(); ++i) {
    const SeccompSyscall& entry = seccomp.syscalls[i];
    std::string field = "linux.seccomp.syscalls[" + std::to_string(i) + "]";
    auto action = SeccompAction(entry.action, entry.errno_ret);
    if (!action.ok()) {
      return action.error().Wrap(field + ".action");
    }
    CR_ASSIGN_OR_RETURN(auto groups, ArgGroups(entry, field));
    if (*action == plan.default_action) {
      continue;
    }
    for (const auto& name : entry.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        continue;
      }
      for (const auto& args : groups) {
        plan.rules.push_back(SeccompRule{name, nr, *action, args});
      }
    }
  }
  return plan;
}

Result<std::vector<sock_filter>> CompileSeccomp(const SeccompPlan& plan) {
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(plan.default_action),
                                                       seccomp_release);
  if (ctx == nullptr) {
    return Error(Code::kInternal, "seccomp_init failed");
  }
  // The init sets no_new_privs itself when the spec asks; libseccomp must not force it.
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  for (uint32_t arch : plan.architectures) {
    int rc = seccomp_arch_add(ctx.get(), arch);
    if (rc < 0 && rc != -EEXIST) {
      return Error::FromErrno(-rc, "seccomp add architecture");
    }
  }
  for (const auto& rule : plan.rules) {
    int rc = seccomp_rule_add_array(ctx.get(), rule.action, rule.syscall,
                                    static_cast<unsigned int>(rule.args.size()), rule.args.data());
    if (rc < 0) {
      return Error::FromErrno(-rc, "seccomp rule for " + rule.name);
    }
  }
  UniqueFd mem(::memfd_create("cricket-seccomp", MFD_CLOEXEC));
  if (!mem.valid()) {
    return Error::FromErrno(errno, "memfd_create for seccomp");
  }
  if (int rc = seccomp_export_bpf(ctx.get(), mem.get()); rc < 0) {
    return Error::FromErrno(-rc, "seccomp export bpf");
  }
  off_t size = ::lseek(mem.get(), 0, SEEK_END);
  if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
    return Error(Code::kInternal, "seccomp export bpf: unexpected size " + std::to_string(size));
  }
  std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
  if (::pread(mem.get(), program.data(), static_cast<size_t>(size), 0) != size) {
    return Error::FromErrno(errno, "read seccomp bpf");
  }
  return program;
}

}  // namespace cricket::oci
