#include "oci/child_plan.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>

#include "common/files.h"
#include "common/log.h"
#include "oci/mount_options.h"
#include "oci/rlimits.h"
#include "oci/seccomp_filter.h"
#include "oci/spec_default.h"
#include "oci/spec_validate.h"

namespace cricket::oci {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string Basename(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string JoinComma(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    out += out.empty() ? "" : ",";
    out += p;
  }
  return out;
}

// On v1 a "cgroup" mount cannot be one filesystem: it becomes a tmpfs holding one mount per
// hierarchy (as runc does), made read-only at the end when asked.
void ExpandCgroupMount(const Mount& m, const MountOptions& opts, const CgroupInfo& cgroups,
                       std::vector<MountStep>& out) {
  if (cgroups.mode == CgroupMode::kV2) {
    out.push_back(MountStep{MountStep::Kind::kMount, "cgroup2", m.destination, "cgroup2",
                            opts.flags, "", opts.propagation, false, true});
    return;
  }
  unsigned long tmpfs_flags = opts.flags & ~static_cast<unsigned long>(MS_RDONLY);
  out.push_back(MountStep{MountStep::Kind::kMount, "tmpfs", m.destination, "tmpfs", tmpfs_flags,
                          "mode=755", {}, false, true});
  for (const auto& h : cgroups.v1) {
    out.push_back(MountStep{MountStep::Kind::kMount, "cgroup",
                            m.destination + "/" + Basename(h.mount_point), "cgroup", opts.flags,
                            JoinComma(h.controllers), {}, false, true});
  }
  if ((opts.flags & MS_RDONLY) != 0) {
    out.push_back(MountStep{MountStep::Kind::kRemount, "", m.destination, "",
                            MS_REMOUNT | MS_RDONLY | tmpfs_flags, "", opts.propagation, false,
                            true});
  }
}

// The mount's own mappings, or with a bare "idmap" the container's user namespace ones.
Result<void> SetIdmap(const Mount& m, const MountOptions& opts, const Linux& l,
                      const std::string& field, MountStep& step) {
  if (m.uid_mappings.empty() && m.gid_mappings.empty() && !opts.idmap) {
    return Ok();
  }
  step.idmap = true;
  step.idmap_recursive = opts.idmap_recursive;
  step.uid_mappings = m.uid_mappings.empty() ? l.uid_mappings : m.uid_mappings;
  step.gid_mappings = m.gid_mappings.empty() ? l.gid_mappings : m.gid_mappings;
  if (step.uid_mappings.empty() || step.gid_mappings.empty()) {
    return Error(Code::kInvalidArgument,
                 field + ": \"idmap\" without uidMappings/gidMappings takes the container's, "
                         "and linux.uidMappings/gidMappings are empty");
  }
  return Ok();
}

Result<void> AddMountSteps(const Mount& m, const MountOptions& opts, const std::string& field,
                           const CgroupInfo* cgroups, const Linux& l, std::vector<MountStep>& out) {
  if (m.type == "cgroup" && cgroups != nullptr) {
    ExpandCgroupMount(m, opts, *cgroups, out);
    return Ok();
  }
  if ((opts.flags & MS_BIND) == 0) {
    out.push_back(MountStep{MountStep::Kind::kMount, m.source, m.destination, m.type, opts.flags,
                            opts.data, opts.propagation, opts.recursive_readonly, true});
    return Ok();
  }
  struct stat st {};
  if (::stat(m.source.c_str(), &st) < 0) {
    return Error::FromErrno(errno, field + ".source: stat " + m.source);
  }
  const unsigned long bind = MS_BIND | (opts.flags & MS_REC);
  const unsigned long rest = opts.flags & ~static_cast<unsigned long>(MS_BIND | MS_REC);
  const bool is_dir = S_ISDIR(st.st_mode);
  out.push_back(MountStep{MountStep::Kind::kMount, m.source, m.destination, "", bind, "",
                          {}, false, is_dir});
  CR_RETURN_IF_ERROR(SetIdmap(m, opts, l, field, out.back()));
  // A bind mount ignores every other flag: they take effect through a remount.
  if (rest != 0) {
    out.push_back(MountStep{MountStep::Kind::kRemount, "", m.destination, "",
                            MS_REMOUNT | MS_BIND | rest, "", {}, false, is_dir});
  }
  out.back().propagation = opts.propagation;
  out.back().recursive_readonly = opts.recursive_readonly;
  return Ok();
}

// ValidateSpec let a bind onto /proc through: only procfs may be bound there (runc's
// checkProcMount), and the init is told which steps may land on procfs.
Result<void> CheckProcMount(const Mount& m, const MountOptions& opts, const std::string& field,
                            size_t first_step, std::vector<MountStep>& out) {
  ProcMountRule rule = ClassifyProcMount(m.destination);
  if (rule == ProcMountRule::kProcRoot && (opts.flags & MS_BIND) != 0) {
    struct statfs st {};
    if (::statfs(m.source.c_str(), &st) < 0) {
      return Error::FromErrno(errno, field + ".source: statfs " + m.source);
    }
    if (st.f_type != PROC_SUPER_MAGIC) {
      return Error(Code::kInvalidArgument, field +
                                               ".source: only procfs may be bound on /proc, \"" +
                                               m.source + "\" is not on procfs");
    }
  }
  for (size_t i = first_step; i < out.size(); ++i) {
    out[i].over_proc_allowed =
        rule == ProcMountRule::kProcRoot || rule == ProcMountRule::kAllowedFile;
  }
  return Ok();
}

Result<void> AddMount(const Mount& m, size_t index, const CgroupInfo* cgroups, const Linux& l,
                      std::vector<MountStep>& out) {
  std::string field = "mounts[" + std::to_string(index) + "]";
  auto opts = ParseMountOptions(m.options);
  if (!opts.ok()) {
    return opts.error().Wrap(field + ".options");
  }
  const size_t first_step = out.size();
  CR_RETURN_IF_ERROR(AddMountSteps(m, *opts, field, cgroups, l, out));
  return CheckProcMount(m, *opts, field, first_step, out);
}

Result<void> AddNamespaces(const Linux& l, ChildPlan& plan) {
  for (const Namespace& ns : l.namespaces) {
    int flag = NamespaceCloneFlag(ns.type);
    if (ns.path.empty()) {
      plan.clone_flags |= flag;
      continue;
    }
    int fd = ::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC);  // NOLINT(cppcoreguidelines-pro-type-vararg)
    if (fd < 0) {
      return Error::FromErrno(errno, "open " + ns.type + " namespace " + ns.path);
    }
    plan.owned_fds.push_back(fd);
    plan.joins.push_back(NsJoin{ns.type, ns.path, fd, flag});
  }
  // A joined user namespace is entered last, after the rootfs is built (see child_init.h): the
  // init keeps the node's root until then, so it can still join namespaces the node owns (a
  // pod's network namespace) and mount what the node owns (sysfs, procfs of a new pid namespace).
  std::stable_partition(plan.joins.begin(), plan.joins.end(),
                        [](const NsJoin& j) { return j.type != "user"; });
  if ((plan.clone_flags & CLONE_NEWCGROUP) != 0) {
    plan.clone_flags &= ~CLONE_NEWCGROUP;
    plan.unshare_cgroupns = true;
  }
  plan.new_user_ns = (plan.clone_flags & CLONE_NEWUSER) != 0;
  plan.bind_devices = plan.new_user_ns || (!plan.joins.empty() && plan.joins.back().type == "user");
  plan.setup_rootfs = (plan.clone_flags & CLONE_NEWNS) != 0;
  return Ok();
}

void AddDevices(const Spec& spec, ChildPlan& plan) {
  bool own_dev = std::any_of(spec.mounts.begin(), spec.mounts.end(), [](const Mount& m) {
    return m.destination == "/dev" && m.type != "bind" &&
           std::find(m.options.begin(), m.options.end(), "bind") == m.options.end() &&
           std::find(m.options.begin(), m.options.end(), "rbind") == m.options.end();
  });
  plan.dev_symlinks = own_dev;
  std::vector<Device> devices;
  if (own_dev) {
    devices = DefaultDevices();
  }
  for (const Device& d : spec.linux->devices) {
    std::erase_if(devices, [&](const Device& x) { return x.path == d.path; });
    devices.push_back(d);
  }
  for (const Device& d : devices) {
    mode_t type = d.type == "b" ? S_IFBLK : d.type == "p" ? S_IFIFO : S_IFCHR;
    plan.devices.push_back(DeviceStep{d.path, type | (d.file_mode.value_or(0666) & 07777),
                                      makedev(d.major, d.minor), d.uid.value_or(0),
                                      d.gid.value_or(0)});
  }
}

// A joined network namespace that is the runtime's own is the node's: net.* would change it
// (ValidateSpec only sees that there is a path).
Result<bool> JoinsOwnNetns(const ChildPlan& plan) {
  for (const NsJoin& j : plan.joins) {
    if (j.type != "network") {
      continue;
    }
    struct stat joined {};
    struct stat own {};
    if (::fstat(j.fd, &joined) < 0 || ::stat("/proc/self/ns/net", &own) < 0) {
      return Error::FromErrno(errno, "stat network namespace " + j.path);
    }
    return joined.st_dev == own.st_dev && joined.st_ino == own.st_ino;
  }
  return false;
}

// Sysctls become paths below the container's /proc, written by the init through a procfs fd.
Result<void> AddSysctls(const Linux& l, ChildPlan& plan) {
  bool checked_netns = false;
  for (const auto& [key, value] : l.sysctl) {
    std::string name = SysctlDottedName(key);
    if (name.starts_with("net.") && !checked_netns) {
      CR_ASSIGN_OR_RETURN(bool host, JoinsOwnNetns(plan));
      if (host) {
        return Error(Code::kInvalidArgument,
                     "linux.sysctl[\"" + key + "\"]: the joined network namespace is the node's");
      }
      checked_netns = true;
    }
    std::string path = "sys/" + name;
    for (size_t i = 4; i < path.size(); ++i) {
      path[i] = path[i] == '.' ? '/' : path[i] == '/' ? '.' : path[i];
    }
    plan.sysctls.push_back(SysctlStep{std::move(path), value});
  }
  return Ok();
}

bool Exists(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0;
}

// AppArmor and SELinux labels apply when the kernel runs that LSM; otherwise they are skipped
// with a logged reason, as containerd and CRI-O do on nodes without them.
void AddLsm(const Process& p, ChildPlan& plan) {
  if (!p.apparmor_profile.empty()) {
    auto enabled = ReadFile("/sys/module/apparmor/parameters/enabled");
    if (enabled.ok() && !enabled->empty() && (*enabled)[0] == 'Y') {
      plan.lsm_attr_path =
          Exists("/proc/self/attr/apparmor/exec") ? "attr/apparmor/exec" : "attr/exec";
      plan.lsm_attr_value = "exec " + p.apparmor_profile;
    } else {
      log::Info({}, "apparmorProfile {} skipped: AppArmor is not enabled on this node",
                p.apparmor_profile);
    }
  }
  if (!p.selinux_label.empty()) {
    if (Exists("/sys/fs/selinux/enforce")) {
      plan.lsm_attr_path = "attr/exec";
      plan.lsm_attr_value = p.selinux_label;
    } else {
      log::Info({}, "selinuxLabel {} skipped: SELinux is not enabled on this node", p.selinux_label);
    }
  }
}

Result<void> AddProcess(const Process& p, ChildPlan& plan) {
  plan.terminal = p.terminal;
  if (p.console_size) {
    plan.console_rows = static_cast<uint16_t>(p.console_size->height);
    plan.console_cols = static_cast<uint16_t>(p.console_size->width);
  }
  for (const Rlimit& r : p.rlimits) {
    plan.rlimits.emplace_back(RlimitResource(r.type), rlimit{r.soft, r.hard});
  }
  plan.uid = p.user.uid;
  plan.gid = p.user.gid;
  plan.additional_gids.assign(p.user.additional_gids.begin(), p.user.additional_gids.end());
  if (p.user.umask) {
    plan.umask = static_cast<mode_t>(*p.user.umask);
  }
  plan.last_cap = LastCap();
  if (p.capabilities) {
    plan.set_caps = true;
    CR_ASSIGN_OR_RETURN(plan.caps, ResolveCapabilities(*p.capabilities, plan.last_cap));
    // The kernel raises an ambient capability only when it is permitted and inheritable;
    // runc's own `spec` lists ambient ones without inheritable, and runc runs it. Skip those.
    uint64_t raisable = plan.caps.ambient & plan.caps.permitted & plan.caps.inheritable;
    if (raisable != plan.caps.ambient) {
      log::Warn({}, "ambient capabilities {:#x} skipped: not both permitted and inheritable",
                plan.caps.ambient & ~raisable);
      plan.caps.ambient = raisable;
    }
    plan.cap_state.reset(cap_init());
    for (int cap = 0; cap <= plan.last_cap && cap < 64; ++cap) {
      cap_value_t value = cap;
      uint64_t bit = uint64_t{1} << cap;
      if ((plan.caps.effective & bit) != 0) {
        cap_set_flag(plan.cap_state.get(), CAP_EFFECTIVE, 1, &value, CAP_SET);
      }
      if ((plan.caps.permitted & bit) != 0) {
        cap_set_flag(plan.cap_state.get(), CAP_PERMITTED, 1, &value, CAP_SET);
      }
      if ((plan.caps.inheritable & bit) != 0) {
        cap_set_flag(plan.cap_state.get(), CAP_INHERITABLE, 1, &value, CAP_SET);
      }
    }
  }
  plan.no_new_privileges = p.no_new_privileges;
  AddLsm(p, plan);
  plan.cwd = p.cwd;
  plan.args = p.args;
  plan.env = p.env;
  std::string path_var = kDefaultPath;
  for (const auto& e : p.env) {
    if (e.rfind("PATH=", 0) == 0) {
      path_var = e.substr(5);
    }
  }
  size_t start = 0;
  while (start <= path_var.size()) {
    size_t end = std::min(path_var.find(':', start), path_var.size());
    if (end > start) {
      plan.search_path.push_back(path_var.substr(start, end - start));
    }
    start = end + 1;
  }
  return Ok();
}

// exec joins every namespace of the container's init, by its /proc entries.
Result<void> JoinInitNamespaces(const Linux& l, pid_t init_pid, ChildPlan& plan) {
  Linux joined;
  std::string dir = "/proc/" + std::to_string(init_pid) + "/ns/";
  for (const Namespace& ns : l.namespaces) {
    std::string name = ns.type == "network" ? "net" : ns.type == "mount" ? "mnt" : ns.type;
    joined.namespaces.push_back(Namespace{ns.type, dir + name});
  }
  CR_RETURN_IF_ERROR(AddNamespaces(joined, plan));
  plan.setup_rootfs = false;
  plan.exec = true;
  plan.start_now = true;
  return Ok();
}

Result<void> AddSeccomp(const Seccomp& seccomp, ChildPlan& plan) {
  CR_ASSIGN_OR_RETURN(SeccompPlan seccomp_plan, TranslateSeccomp(seccomp));
  CR_ASSIGN_OR_RETURN(plan.seccomp_program, CompileSeccomp(seccomp_plan));
  plan.seccomp = true;
  plan.seccomp_flags = seccomp_plan.filter_flags;
  return Ok();
}

void AddHooks(const std::vector<Hook>& hooks, const char* field, bool start_container,
              ChildPlan& plan) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    const Hook& h = hooks[i];
    HookStep step;
    step.field = std::string(field) + "[" + std::to_string(i) + "]";
    step.start_container = start_container;
    step.path = h.path;
    step.args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
    step.env = h.env;
    step.timeout_ms = h.timeout ? *h.timeout * 1000 : -1;
    plan.hooks.push_back(std::move(step));
  }
}

Result<ChildPlan> BuildExecPlan(const ChildPlanInputs& in, const Linux& l) {
  ChildPlan plan;
  Result<void> step = JoinInitNamespaces(l, in.exec_init_pid, plan);
  if (step.ok()) {
    step = AddProcess(*in.spec.process, plan);
  }
  if (step.ok() && l.seccomp) {
    step = AddSeccomp(*l.seccomp, plan);
  }
  if (!step.ok()) {
    CloseOwnedFds(plan);
    return std::move(step).error();
  }
  return plan;
}

}  // namespace

Result<ChildPlan> BuildChildPlan(const ChildPlanInputs& in) {
  const Spec& spec = in.spec;
  ChildPlan plan;
  Linux empty_linux;
  const Linux& l = spec.linux ? *spec.linux : empty_linux;
  if (in.exec_init_pid > 0) {
    return BuildExecPlan(in, l);
  }
  auto ns = AddNamespaces(l, plan);
  if (ns.ok() && !plan.setup_rootfs) {
    ns = Error(Code::kInvalidArgument, "linux.namespaces: a new mount namespace is required");
  }
  if (!ns.ok()) {
    CloseOwnedFds(plan);
    return ns.error();
  }
  plan.set_hostname = !spec.hostname.empty();
  plan.hostname = spec.hostname;
  plan.set_domainname = !spec.domainname.empty();
  plan.domainname = spec.domainname;
  plan.rootfs = spec.root->path;
  plan.rootfs_readonly = spec.root->readonly;
  plan.root_propagation = l.rootfs_propagation.empty() ? (MS_SLAVE | MS_REC)
                                                       : PropagationFlags(l.rootfs_propagation);
  Result<void> step = Ok();
  for (size_t i = 0; i < spec.mounts.size() && step.ok(); ++i) {
    step = AddMount(spec.mounts[i], i, in.cgroups, l, plan.mounts);
  }
  if (step.ok() && spec.linux) {
    AddDevices(spec, plan);
    plan.masked_paths = l.masked_paths;
    plan.readonly_paths = l.readonly_paths;
    step = AddSysctls(l, plan);
  }
  if (step.ok()) {
    step = AddProcess(*spec.process, plan);
  }
  if (step.ok() && l.seccomp) {
    step = AddSeccomp(*l.seccomp, plan);
  }
  if (!step.ok()) {
    CloseOwnedFds(plan);
    return std::move(step).error();
  }
  if (spec.hooks) {
    AddHooks(spec.hooks->create_container, "hooks.createContainer", false, plan);
    AddHooks(spec.hooks->start_container, "hooks.startContainer", true, plan);
    plan.pause_for_runtime_hooks =
        !spec.hooks->prestart.empty() || !spec.hooks->create_runtime.empty();
  }
  return plan;
}

void CloseOwnedFds(ChildPlan& plan) {
  for (int fd : plan.owned_fds) {
    ::close(fd);
  }
  plan.owned_fds.clear();
  for (HookStep& h : plan.hooks) {
    if (h.state_write_fd >= 0) {
      ::close(h.state_write_fd);
      h.state_write_fd = -1;
    }
  }
}

}  // namespace cricket::oci
