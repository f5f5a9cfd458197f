#include "oci/spec_validate.h"

#include <sched.h>
#include <sys/mount.h>

#include <algorithm>
#include <set>

#include "common/text.h"
#include "oci/mount_options.h"
#include "oci/rlimits.h"

namespace cricket::oci {
namespace {

Error Invalid(const std::string& field, const std::string& what) {
  return Error(Code::kInvalidArgument, field + ": " + what);
}

// Built by appending: GCC 12 at -O2 warns falsely (-Wrestrict) about "\"" + std::string(s).
std::string Quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  out.append(s);
  out += '"';
  return out;
}

std::string Index(const char* field, size_t i) {
  return std::string(field) + "[" + std::to_string(i) + "]";
}

Result<void> ValidateVersion(const std::string& version) {
  if (version.empty()) {
    return Invalid("ociVersion", "missing");
  }
  size_t dot = version.find('.');
  std::string major = version.substr(0, dot);
  if (major.empty() || major.find_first_not_of("0123456789") != std::string::npos) {
    return Invalid("ociVersion", "not a version: " + Quote(version));
  }
  // SemVer: a runtime supports one major version; 1.x.y configs are all readable by 1.2.0 code.
  if (major != "1") {
    return Invalid("ociVersion", "unsupported major version " + major + " in " + Quote(version) +
                                     " (this runtime implements " + kOciVersion + ")");
  }
  return Ok();
}

Result<void> ValidateProcess(const Process& p) {
  if (p.args.empty()) {
    return Invalid("process.args", "must name the program to run");
  }
  if (p.cwd.empty() || p.cwd[0] != '/') {
    return Invalid("process.cwd", "must be an absolute path, got " + Quote(p.cwd));
  }
  for (size_t i = 0; i < p.env.size(); ++i) {
    if (p.env[i].find('=') == std::string::npos) {
      return Invalid(Index("process.env", i), "expected NAME=VALUE, got " + Quote(p.env[i]));
    }
  }
  for (size_t i = 0; i < p.rlimits.size(); ++i) {
    const Rlimit& r = p.rlimits[i];
    if (RlimitResource(r.type) < 0) {
      return Invalid(Index("process.rlimits", i) + ".type", "unknown rlimit " + Quote(r.type));
    }
    if (r.soft > r.hard) {
      return Invalid(Index("process.rlimits", i), "soft limit above hard limit");
    }
  }
  return Ok();
}

Result<void> ValidateMount(const Mount& m, const std::string& field) {
  if (m.destination.empty() || m.destination[0] != '/') {
    return Invalid(field + ".destination", "must be an absolute path, got " + Quote(m.destination));
  }
  auto parsed = ParseMountOptions(m.options);
  if (!parsed.ok()) {
    return Invalid(field + ".options", parsed.error().message());
  }
  bool bind = (parsed->flags & MS_BIND) != 0;
  switch (ClassifyProcMount(m.destination)) {
    case ProcMountRule::kProcRoot:
      if (!bind && m.type != "proc") {
        return Invalid(field + ".destination",
                       Quote(m.destination) + " takes only a proc mount, not " + Quote(m.type));
      }
      break;
    case ProcMountRule::kRefused:
      return Invalid(field + ".destination",
                     "no mounts under /proc (but the lxcfs files), got " + Quote(m.destination));
    case ProcMountRule::kNotInProc:
    case ProcMountRule::kAllowedFile:
      break;
  }
  if (m.type.empty() && !bind) {
    return Invalid(field + ".type", "missing (only bind mounts may leave it out)");
  }
  if (bind && m.source.empty()) {
    return Invalid(field + ".source", "a bind mount needs a source");
  }
  const bool mapped = !m.uid_mappings.empty() || !m.gid_mappings.empty();
  if ((mapped || parsed->idmap) && !bind) {
    return Invalid(field + ".options", "idmapped mounts need a bind mount");
  }
  if (mapped && (m.uid_mappings.empty() || m.gid_mappings.empty())) {
    return Invalid(field + ".uidMappings", "an idmapped mount needs both uidMappings and gidMappings");
  }
  return Ok();
}

Result<void> ValidateLinux(const Linux& l, const Spec& spec) {
  std::set<std::string> seen;
  for (size_t i = 0; i < l.namespaces.size(); ++i) {
    const Namespace& ns = l.namespaces[i];
    std::string field = Index("linux.namespaces", i);
    if (NamespaceCloneFlag(ns.type) == 0) {
      return Invalid(field + ".type", "unknown namespace type " + Quote(ns.type));
    }
    if (!seen.insert(ns.type).second) {
      return Invalid(field + ".type", "namespace " + Quote(ns.type) + " listed twice");
    }
    if (!ns.path.empty() && ns.path[0] != '/') {
      return Invalid(field + ".path", "must be an absolute path, got " + Quote(ns.path));
    }
  }
  if (!spec.hostname.empty() && seen.count("uts") == 0) {
    return Invalid("hostname", "needs its own uts namespace");
  }
  if ((!l.uid_mappings.empty() || !l.gid_mappings.empty()) && seen.count("user") == 0) {
    return Invalid("linux.uidMappings", "mappings need a user namespace");
  }
  if (!l.rootfs_propagation.empty() && PropagationFlags(l.rootfs_propagation) == 0) {
    return Invalid("linux.rootfsPropagation", "unknown propagation " + Quote(l.rootfs_propagation));
  }
  for (size_t i = 0; i < l.devices.size(); ++i) {
    const Device& d = l.devices[i];
    std::string field = Index("linux.devices", i);
    if (d.path.empty() || d.path[0] != '/') {
      return Invalid(field + ".path", "must be an absolute path, got " + Quote(d.path));
    }
    if (d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p") {
      return Invalid(field + ".type", "must be c, b, u or p, got " + Quote(d.type));
    }
  }
  OwnNamespaces own{seen.count("network") != 0, seen.count("ipc") != 0, seen.count("uts") != 0,
                    seen.count("user") != 0};
  for (const auto& [key, value] : l.sysctl) {
    CR_RETURN_IF_ERROR(CheckSysctl(key, own, "linux.sysctl[" + Quote(key) + "]"));
  }
  for (const auto& path : l.masked_paths) {
    if (path.empty() || path[0] != '/') {
      return Invalid("linux.maskedPaths", "must be absolute paths, got " + Quote(path));
    }
  }
  for (const auto& path : l.readonly_paths) {
    if (path.empty() || path[0] != '/') {
      return Invalid("linux.readonlyPaths", "must be absolute paths, got " + Quote(path));
    }
  }
  return Ok();
}

bool IsIpcSysctl(std::string_view name) {
  static constexpr std::string_view kIpc[] = {
      "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
      "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
  };
  return std::find(std::begin(kIpc), std::end(kIpc), name) != std::end(kIpc) ||
         name.starts_with("fs.mqueue.");
}

}  // namespace

std::string SysctlDottedName(std::string_view key) {
  std::string out(key);
  size_t first = out.find_first_of("./");
  if (first != std::string::npos && out[first] == '/') {
    for (char& c : out) {
      c = c == '/' ? '.' : c == '.' ? '/' : c;
    }
  }
  return out;
}

Result<void> CheckSysctl(std::string_view key, const OwnNamespaces& own, const std::string& field) {
  const std::string name = SysctlDottedName(key);
  // An empty component, or one of only '/' ("." or ".." once turned into a path), would name
  // another file than the sysctl checked here.
  for (const std::string& part : Split(name, '.')) {
    if (part.find_first_not_of('/') == std::string::npos) {
      return Invalid(field, "not a sysctl name");
    }
  }
  auto need = [&](bool has, const char* ns) -> Result<void> {
    if (has) {
      return Ok();
    }
    return Invalid(field, "sysctl " + Quote(name) + " needs the container's own " + ns +
                              " namespace (it would change the node's)");
  };
  if (IsIpcSysctl(name)) {
    return need(own.ipc, "ipc");
  }
  if (name.starts_with("net.")) {
    return need(own.net, "network");
  }
  if (name == "kernel.domainname") {
    return need(own.uts, "uts");
  }
  if (name == "kernel.hostname") {
    return Invalid(field, "sysctl \"kernel.hostname\" conflicts with the spec's hostname field");
  }
  if (name.starts_with("user.")) {
    return need(own.user, "user");
  }
  return Invalid(field, "sysctl " + Quote(name) + " is not namespaced: it would change the node");
}

ProcMountRule ClassifyProcMount(std::string_view destination) {
  const std::string dest = CleanPath(destination);
  if (dest == "/proc") {
    return ProcMountRule::kProcRoot;
  }
  if (!dest.starts_with("/proc/")) {
    return ProcMountRule::kNotInProc;
  }
  // What lxcfs binds over a container's /proc (runc's validProcMounts).
  static constexpr std::string_view kLxcfs[] = {
      "/proc/cpuinfo",
      "/proc/diskstats",
      "/proc/meminfo",
      "/proc/stat",
      "/proc/swaps",
      "/proc/uptime",
      "/proc/loadavg",
      "/proc/slabinfo",
      "/proc/sys/kernel/ns_last_pid",
      "/proc/sys/crypto/fips_enabled",
  };
  return std::find(std::begin(kLxcfs), std::end(kLxcfs), dest) != std::end(kLxcfs)
             ? ProcMountRule::kAllowedFile
             : ProcMountRule::kRefused;
}

int NamespaceCloneFlag(std::string_view type) {
  if (type == "pid") {
    return CLONE_NEWPID;
  }
  if (type == "network") {
    return CLONE_NEWNET;
  }
  if (type == "mount") {
    return CLONE_NEWNS;
  }
  if (type == "ipc") {
    return CLONE_NEWIPC;
  }
  if (type == "uts") {
    return CLONE_NEWUTS;
  }
  if (type == "user") {
    return CLONE_NEWUSER;
  }
  if (type == "cgroup") {
    return CLONE_NEWCGROUP;
  }
  if (type == "time") {
    return 0x00000080;  // CLONE_NEWTIME; glibc 2.36 headers lack it
  }
  return 0;
}

void ResolveBundlePaths(Spec& spec, const std::string& bundle_dir) {
  if (spec.root && !spec.root->path.empty() && spec.root->path[0] != '/') {
    spec.root->path = bundle_dir + "/" + spec.root->path;
  }
  for (Mount& m : spec.mounts) {
    bool bind = m.type == "bind" || std::find(m.options.begin(), m.options.end(), "bind") != m.options.end() ||
                std::find(m.options.begin(), m.options.end(), "rbind") != m.options.end();
    if (bind && !m.source.empty() && m.source[0] != '/') {
      m.source = bundle_dir + "/" + m.source;
    }
  }
}

Result<void> ValidateSpec(const Spec& spec) {
  CR_RETURN_IF_ERROR(ValidateVersion(spec.oci_version));
  if (!spec.root || spec.root->path.empty()) {
    return Invalid("root.path", "missing");
  }
  if (spec.root->path[0] != '/') {
    return Invalid("root.path", "must be absolute (or resolved against the bundle), got " +
                                    Quote(spec.root->path));
  }
  if (!spec.process) {
    return Invalid("process", "missing");
  }
  CR_RETURN_IF_ERROR(ValidateProcess(*spec.process));
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    CR_RETURN_IF_ERROR(ValidateMount(spec.mounts[i], Index("mounts", i)));
  }
  if (spec.linux) {
    CR_RETURN_IF_ERROR(ValidateLinux(*spec.linux, spec));
  } else if (!spec.hostname.empty()) {
    return Invalid("hostname", "needs its own uts namespace");
  }
  return Ok();
}

}  // namespace cricket::oci
