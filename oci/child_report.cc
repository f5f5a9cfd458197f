// RenderChildError: the parent's reading of a ChildReport (see child_plan.h).

#include <sys/mount.h>
#include <sys/wait.h>

#include <cerrno>
#include <optional>

#include "oci/child_plan.h"

namespace cricket::oci {
namespace {

template <typename T>
const T* At(const std::vector<T>& list, int32_t index) {
  return index >= 0 && static_cast<size_t>(index) < list.size() ? &list[static_cast<size_t>(index)]
                                                                : nullptr;
}

std::string MountAction(const ChildPlan& plan, const ChildReport& r) {
  const MountStep* m = At(plan.mounts, r.index);
  if (m == nullptr) {
    return "mount";
  }
  std::string target = plan.rootfs + m->destination;
  switch (r.step) {
    case ChildStep::kMountTarget: return "create mount point " + target;
    case ChildStep::kMountPropagation: return "set propagation of " + target;
    case ChildStep::kMountRecursiveReadonly: return "make " + target + " recursively read-only";
    default: break;
  }
  if (m->kind == MountStep::Kind::kRemount) {
    return "remount " + target + ((m->flags & MS_RDONLY) != 0 ? " read-only" : "");
  }
  std::string what = m->source.empty() ? m->type : m->source;
  return "mount " + what + " on " + target + (m->type.empty() ? "" : " (" + m->type + ")");
}

std::string Action(const ChildPlan& plan, const ChildReport& r) {
  switch (r.step) {
    case ChildStep::kReady: return "container init";
    case ChildStep::kSync: return r.index == 1 ? "wait for the runtime's hooks" : "wait for the runtime";
    case ChildStep::kStdio: return "set up stdio fd " + std::to_string(r.index);
    case ChildStep::kCgroupJoin: {
      const std::string* f = At(plan.cgroup_join_files, r.index);
      return "join cgroup through " + (f == nullptr ? std::string() : *f);
    }
    case ChildStep::kSetns: {
      const NsJoin* j = At(plan.joins, r.index);
      return j == nullptr ? "unshare cgroup namespace" : "join " + j->type + " namespace " + j->path;
    }
    case ChildStep::kSetsid: return "setsid";
    case ChildStep::kBecomeRoot: return "become root in the new user namespace (is 0 mapped?)";
    case ChildStep::kHostname: return "set hostname " + plan.hostname;
    case ChildStep::kDomainname: return "set domainname " + plan.domainname;
    case ChildStep::kRootPropagation:
      return r.index == 0 ? "set propagation of /"
                          : "make the mount holding " + plan.rootfs + " private";
    case ChildStep::kRootBind: return "bind rootfs " + plan.rootfs;
    case ChildStep::kMountTarget:
    case ChildStep::kMount:
    case ChildStep::kMountPropagation:
    case ChildStep::kMountRecursiveReadonly: return MountAction(plan, r);
    case ChildStep::kDevice: {
      const DeviceStep* d = At(plan.devices, r.index);
      return "create device " + plan.rootfs + (d == nullptr ? "" : d->path);
    }
    case ChildStep::kPivotRoot: return "pivot_root to " + plan.rootfs;
    case ChildStep::kDevSymlink: return "create /dev symlinks";
    case ChildStep::kMaskPath: {
      const std::string* p = At(plan.masked_paths, r.index);
      return "mask " + (p == nullptr ? std::string("path") : *p);
    }
    case ChildStep::kReadonlyPath: {
      const std::string* p = At(plan.readonly_paths, r.index);
      return "make " + (p == nullptr ? std::string("path") : *p) + " read-only";
    }
    case ChildStep::kReadonlyRoot: return "remount rootfs read-only";
    case ChildStep::kSysctl: {
      const SysctlStep* s = At(plan.sysctls, r.index);
      return "write sysctl /proc/" + (s == nullptr ? std::string() : s->path);
    }
    case ChildStep::kConsole: return "set up the console (step " + std::to_string(r.index) + ")";
    case ChildStep::kRlimit: return "setrlimit " + std::to_string(r.index);
    case ChildStep::kSeccomp: return "load seccomp filter";
    case ChildStep::kBoundingDrop: return "drop capability " + std::to_string(r.index) + " from the bounding set";
    case ChildStep::kSetgroups: return "setgroups";
    case ChildStep::kSetgid: return "setgid " + std::to_string(plan.gid);
    case ChildStep::kSetuid: return "setuid " + std::to_string(plan.uid);
    case ChildStep::kCapset: return "set capabilities";
    case ChildStep::kAmbient: return "raise ambient capability " + std::to_string(r.index);
    case ChildStep::kNoNewPrivs: return "set no_new_privs";
    case ChildStep::kChdir: return "chdir to " + plan.cwd;
    case ChildStep::kCwd:
      return "check that process.cwd " + plan.cwd + " is in the container";
    case ChildStep::kLookup:
      return "find executable \"" + (plan.args.empty() ? std::string() : plan.args[0]) +
             "\" in the container";
    case ChildStep::kWaitStart: return "wait for start";
    case ChildStep::kLsm:
      return "write " + plan.lsm_attr_value + " to /proc/thread-self/" + plan.lsm_attr_path;
    case ChildStep::kProcfs:
      return "open /proc in the container for its sysctls";
    case ChildStep::kExec: return "execve " + (plan.args.empty() ? std::string() : plan.args[0]);
    case ChildStep::kRuntimeHooks: return "wait for the runtime's hooks";
    case ChildStep::kHook: {
      const HookStep* h = At(plan.hooks, r.index);
      return h == nullptr ? "run hook" : h->field + " " + h->path;
    }
  }
  return "container init";
}

// A hook's failure reads like the runtime's own hooks' (hooks.cc): "hooks.createContainer[0]
// /bin/x: exited with status 1" (kInternal) or "...: timed out after 2 s" (kDeadlineExceeded).
Error RenderHookError(const ChildPlan& plan, const ChildReport& r) {
  const HookStep* h = At(plan.hooks, r.index);
  std::string what = Action(plan, r);
  if (r.err == ETIMEDOUT && h != nullptr) {
    return Error(Code::kDeadlineExceeded,
                 what + ": timed out after " + std::to_string(h->timeout_ms / 1000) + " s");
  }
  if (r.err != 0) {
    return Error::FromErrno(r.err, what);
  }
  if (WIFSIGNALED(r.status)) {
    return Error(Code::kInternal, what + ": killed by signal " + std::to_string(WTERMSIG(r.status)));
  }
  return Error(Code::kInternal, what + ": exited with status " + std::to_string(WEXITSTATUS(r.status)));
}

// The init's refusals of /proc tricks (child_procfs.cc) carry errnos of their own choosing.
std::optional<Error> RenderProcRefusal(const ChildPlan& plan, const ChildReport& r) {
  if (r.err == EXDEV && r.step == ChildStep::kMountTarget) {
    return Error(Code::kInvalidArgument,
                 Action(plan, r) + ": the destination resolves into the container's procfs");
  }
  if (r.err == EXDEV && (r.step == ChildStep::kProcfs || r.step == ChildStep::kSysctl ||
                         r.step == ChildStep::kMaskPath || r.step == ChildStep::kLsm)) {
    return Error(Code::kInvalidArgument,
                 Action(plan, r) +
                     ": not on procfs (/proc in the container is not the root of a "
                     "procfs, or a mount covers the file)");
  }
  if (r.err == ELOOP && r.step == ChildStep::kMaskPath) {
    return Error(Code::kInvalidArgument, Action(plan, r) + ": a symlink on the way (not followed)");
  }
  if (r.err == ENODEV && r.step == ChildStep::kMaskPath) {
    return Error(Code::kFailedPrecondition,
                 Action(plan, r) + ": /dev/null in the container is not the null device");
  }
  return std::nullopt;
}

}  // namespace

Error RenderChildError(const ChildPlan& plan, const ChildReport& report) {
  if (report.step == ChildStep::kHook) {
    return RenderHookError(plan, report);
  }
  if (auto refusal = RenderProcRefusal(plan, report)) {
    return *refusal;
  }
  if (report.step == ChildStep::kMountRecursiveReadonly && report.err == ENOSYS) {
    return Error(Code::kUnimplemented,
                 Action(plan, report) + ": the \"rro\" mount option needs mount_setattr(2), " +
                     "which this kernel lacks (Linux 5.12 or later)");
  }
  if (report.step == ChildStep::kCwd && report.err == EXDEV) {
    return Error(Code::kInvalidArgument,
                 "process.cwd " + plan.cwd + ": resolves outside the container's root");
  }
  return Error::FromErrno(report.err, Action(plan, report));
}

}  // namespace cricket::oci
