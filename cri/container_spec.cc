#include "cri/container_spec.h"

#include <map>
#include <optional>

#include "common/files.h"
#include "common/text.h"
#include "cri/container_devices.h"
#include "cri/container_security.h"
#include "cri/container_spec_propagation.h"
#include "cri/container_user.h"
#include "oci/cgroup_systemd.h"
#include "oci/spec_default.h"

namespace cricket::cri {
namespace {

namespace v1 = ::runtime::v1;

// Env of the image, then of the config, later entries replacing earlier ones by name.
std::vector<std::string> MergedEnv(const v1::ContainerConfig& config,
                                   const storage::ImageConfig& image) {
  std::vector<std::string> env;
  std::map<std::string, size_t> index;
  auto put = [&](const std::string& key, const std::string& entry) {
    auto it = index.find(key);
    if (it != index.end()) {
      env[it->second] = entry;
    } else {
      index[key] = env.size();
      env.push_back(entry);
    }
  };
  for (const auto& entry : image.env) {
    put(entry.substr(0, entry.find('=')), entry);
  }
  for (const auto& kv : config.envs()) {
    put(kv.key(), kv.key() + "=" + kv.value());
  }
  if (!index.contains("PATH")) {
    put("PATH", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  }
  return env;
}

oci::Mount BindMount(const std::string& source, const std::string& destination, bool readonly,
                     v1::MountPropagation propagation, bool recursive_readonly = false) {
  oci::Mount m;
  m.type = "bind";
  m.source = source;
  m.destination = destination;
  m.options = {"rbind"};
  switch (propagation) {
    case v1::PROPAGATION_HOST_TO_CONTAINER: m.options.emplace_back("rslave"); break;
    case v1::PROPAGATION_BIDIRECTIONAL: m.options.emplace_back("rshared"); break;
    default: m.options.emplace_back("rprivate"); break;
  }
  m.options.emplace_back(readonly ? "ro" : "rw");
  if (recursive_readonly) {
    m.options.emplace_back("rro");
  }
  return m;
}

// A volume on or under /proc or /sys would replace what the kernel shows the container, and
// one over /proc hides the files the runtime writes the LSM profile and sysctls to
// (CVE-2019-16884). The OCI runtime-spec's own mounts put procfs at /proc and sysfs at /sys;
// a CRI mount is never needed there (kubelet mounts nothing below them), so all are refused,
// stricter than runc's lxcfs exceptions (which are for OCI specs, not pods).
Result<void> CheckKernelFsMount(const v1::Mount& m, const std::string& field) {
  const std::string dest = CleanPath(m.container_path());
  for (std::string_view fs : {"/proc", "/sys"}) {
    if (dest == fs || (dest.starts_with(fs) && dest[fs.size()] == '/')) {
      return Error(Code::kInvalidArgument, field + ".container_path \"" + m.container_path() +
                                               "\": no mounts on or under " + std::string(fs));
    }
  }
  return Ok();
}

// CRI: recursive_read_only needs readonly and PRIVATE propagation (a propagating mount could
// bring in writable submounts later), else INVALID_ARGUMENT.
Result<void> CheckRecursiveReadOnly(const v1::Mount& m, const std::string& field) {
  if (!m.recursive_read_only()) {
    return Ok();
  }
  if (!m.readonly()) {
    return Error(Code::kInvalidArgument, field + ".recursive_read_only needs readonly");
  }
  if (m.propagation() != v1::PROPAGATION_PRIVATE) {
    return Error(Code::kInvalidArgument,
                 field + ".recursive_read_only needs propagation PROPAGATION_PRIVATE, got " +
                     v1::MountPropagation_Name(m.propagation()));
  }
  return Ok();
}

Result<void> CheckPropagation(const ContainerSpecInput& in, const std::string& field,
                              const v1::Mount& m, std::optional<std::string>& mountinfo) {
  if (m.propagation() == v1::PROPAGATION_PRIVATE) {
    return Ok();
  }
  if (!mountinfo) {
    auto text = ReadFile(in.mountinfo_path);
    if (!text.ok()) {
      return text.error().Wrap("read the node's mounts for " + field + ".propagation");
    }
    mountinfo = std::move(*text);
  }
  return CheckSourcePropagation(field, m.host_path(), m.propagation(), *mountinfo);
}

bool InPodUserns(const SandboxContext& sandbox) {
  return sandbox.namespaces.has_userns_options() &&
         sandbox.namespaces.userns_options().mode() == v1::POD && sandbox.infra_pid > 0;
}

Result<void> AddMounts(const ContainerSpecInput& in, oci::Spec& spec) {
  const v1::ContainerConfig& config = *in.config;
  std::map<std::string, bool> taken;  // destinations set by the config win over ours
  std::optional<std::string> mountinfo;  // read once, when a mount propagates
  for (int i = 0; i < config.mounts_size(); ++i) {
    const v1::Mount& m = config.mounts(i);
    const std::string field = "mounts[" + std::to_string(i) + "]";
    if (m.container_path().empty() || m.container_path().front() != '/') {
      return Error(Code::kInvalidArgument,
                   field + ".container_path must be absolute, got \"" + m.container_path() + "\"");
    }
    if (m.host_path().empty()) {
      return Error(Code::kInvalidArgument, field + ".host_path is empty");
    }
    CR_RETURN_IF_ERROR(CheckKernelFsMount(m, field));
    CR_RETURN_IF_ERROR(CheckRecursiveReadOnly(m, field));
    CR_RETURN_IF_ERROR(CheckPropagation(in, field, m, mountinfo));
    spec.mounts.push_back(BindMount(m.host_path(), m.container_path(), m.readonly(),
                                    m.propagation(), m.recursive_read_only()));
    // CRI: a mount's own uid/gid mappings make it an idmapped mount (kubelet sets them for the
    // volumes of a pod in a user namespace).
    spec.mounts.back().uid_mappings = OciMappings(m.uidmappings());
    spec.mounts.back().gid_mappings = OciMappings(m.gidmappings());
    taken[m.container_path()] = true;
    // A mount only propagates if the rootfs mount tree it sits in lets it (containerd's rule):
    // rshared when any mount is bidirectional, else rslave when one is host-to-container.
    if (m.propagation() == v1::PROPAGATION_BIDIRECTIONAL) {
      spec.linux->rootfs_propagation = "rshared";
    } else if (m.propagation() == v1::PROPAGATION_HOST_TO_CONTAINER &&
               spec.linux->rootfs_propagation != "rshared") {
      spec.linux->rootfs_propagation = "rslave";
    }
  }
  const bool readonly_rootfs = config.linux().security_context().readonly_rootfs();
  for (auto [path, dest] : {std::pair{in.sandbox.hosts_path, "/etc/hosts"},
                            std::pair{in.sandbox.resolv_conf_path, "/etc/resolv.conf"},
                            std::pair{in.sandbox.hostname_path, "/etc/hostname"}}) {
    if (!path.empty() && !taken.contains(dest)) {
      spec.mounts.push_back(BindMount(path, dest, readonly_rootfs, v1::PROPAGATION_PRIVATE));
      // In the pod's user namespace the files cricketd wrote (owned by the node's root) show
      // as the container's root through the pod's mappings, as the rootfs does.
      if (InPodUserns(in.sandbox)) {
        spec.mounts.back().options.emplace_back("idmap");
      }
    }
  }
  return Ok();
}

void SetNamespaces(const ContainerSpecInput& in, oci::Spec& spec) {
  const auto& sandbox = in.sandbox;
  const auto& ctr_ns = in.config->linux().security_context().namespace_options();
  const std::string proc = "/proc/" + std::to_string(sandbox.infra_pid) + "/ns/";
  std::vector<oci::Namespace> out = {{"mount", ""}};
  // Network: the pod's pinned namespace, or the node's.
  if (sandbox.namespaces.network() != v1::NODE && !sandbox.netns_path.empty()) {
    out.push_back({"network", sandbox.netns_path});
  }
  // PID: the container's own, the pod's (the infra process is pid 1), or the node's.
  if (ctr_ns.pid() == v1::CONTAINER) {
    out.push_back({"pid", ""});
  } else if (ctr_ns.pid() == v1::POD && sandbox.infra_pid > 0) {
    out.push_back({"pid", proc + "pid"});
  }
  // IPC and UTS follow the pod unless it uses the node's.
  if (sandbox.namespaces.ipc() != v1::NODE) {
    out.push_back({"ipc", sandbox.infra_pid > 0 ? proc + "ipc" : ""});
  }
  if (sandbox.namespaces.network() != v1::NODE) {
    out.push_back({"uts", sandbox.infra_pid > 0 ? proc + "uts" : ""});
  }
  // User (CRI userns_options POD): the infra process's, which owns the pod's ipc, uts and pid
  // namespaces. The mappings are the pod's, for idmapped mounts (the runtime writes none for a
  // joined namespace).
  if (InPodUserns(sandbox)) {
    out.push_back({"user", proc + "user"});
    spec.linux->uid_mappings = OciMappings(sandbox.namespaces.userns_options().uids());
    spec.linux->gid_mappings = OciMappings(sandbox.namespaces.userns_options().gids());
  }
  spec.linux->namespaces = std::move(out);
}

Result<void> SetResources(const v1::LinuxContainerResources& r, oci::Spec& spec) {
  CR_RETURN_IF_ERROR(CheckCriResources(r, "linux.resources"));
  ApplyCriResources(
      r, spec.linux->resources ? *spec.linux->resources : spec.linux->resources.emplace());
  if (r.oom_score_adj() != 0) {
    spec.process->oom_score_adj = static_cast<int>(r.oom_score_adj());
  }
  return Ok();
}

// "2MB", "64KB", "1GB": the size part of the kernel's hugetlb.<size>.* file names.
bool IsHugepageSize(std::string_view size) {
  size_t digits = 0;
  while (digits < size.size() && size[digits] >= '0' && size[digits] <= '9') {
    ++digits;
  }
  return digits > 0 && digits + 2 == size.size() && size[digits + 1] == 'B' &&
         std::string_view("KMGTP").find(size[digits]) != std::string_view::npos;
}

}  // namespace

Result<void> CheckCriResources(const v1::LinuxContainerResources& r, const std::string& field) {
  for (int i = 0; i < r.hugepage_limits_size(); ++i) {
    const std::string& size = r.hugepage_limits(i).page_size();
    if (!IsHugepageSize(size)) {
      return Error(Code::kInvalidArgument, field + ".hugepage_limits[" + std::to_string(i) +
                                               "].page_size \"" + size +
                                               "\": want <number><K|M|G|T|P>B, e.g. 2MB or 1GB");
    }
  }
  return Ok();
}

void ApplyCriResources(const v1::LinuxContainerResources& r, oci::Resources& res) {
  if (r.cpu_shares() > 0 || r.cpu_quota() != 0 || r.cpu_period() > 0 || !r.cpuset_cpus().empty() ||
      !r.cpuset_mems().empty()) {
    oci::CpuResources& cpu = res.cpu.emplace();
    if (r.cpu_shares() > 0) {
      cpu.shares = static_cast<uint64_t>(r.cpu_shares());
    }
    if (r.cpu_quota() != 0) {
      cpu.quota = r.cpu_quota();
    }
    if (r.cpu_period() > 0) {
      cpu.period = static_cast<uint64_t>(r.cpu_period());
    }
    cpu.cpus = r.cpuset_cpus();
    cpu.mems = r.cpuset_mems();
  }
  if (r.memory_limit_in_bytes() > 0) {
    oci::MemoryResources& mem = res.memory.emplace();
    mem.limit = r.memory_limit_in_bytes();
    if (r.memory_swap_limit_in_bytes() > 0) {
      mem.swap = r.memory_swap_limit_in_bytes();
    }
  }
  // v1 hugetlb.<size>.limit_in_bytes, v2 hugetlb.<size>.max: the runtime picks the name.
  // kubelet sends every page size of the node, 0 for those the pod asked none of.
  if (r.hugepage_limits_size() > 0) {
    res.hugepage_limits.clear();
    for (const auto& h : r.hugepage_limits()) {
      res.hugepage_limits.push_back({h.page_size(), h.limit()});
    }
  }
  for (const auto& [key, value] : r.unified()) {
    res.unified[key] = value;
  }
}

std::vector<std::string> EffectiveArgs(const v1::ContainerConfig& config,
                                       const storage::ImageConfig& image) {
  std::vector<std::string> args;
  if (config.command_size() > 0) {
    args.assign(config.command().begin(), config.command().end());
    args.insert(args.end(), config.args().begin(), config.args().end());
    return args;
  }
  args = image.entrypoint;
  if (config.args_size() > 0) {
    args.insert(args.end(), config.args().begin(), config.args().end());
  } else {
    args.insert(args.end(), image.cmd.begin(), image.cmd.end());
  }
  return args;
}

std::string CgroupParentPath(const std::string& cgroup_parent) {
  // The systemd driver's parents are slice names (cri/systemd_scopes.h): systemd's path.
  if (auto slice = oci::ExpandSlice(cgroup_parent); slice.ok()) {
    return *slice;
  }
  std::string parent = cgroup_parent.empty() ? "/cricket" : cgroup_parent;
  if (parent.front() != '/') {
    parent.insert(parent.begin(), '/');
  }
  while (parent.size() > 1 && parent.back() == '/') {
    parent.pop_back();
  }
  return parent;
}

std::string ContainerCgroupPath(const std::string& cgroup_parent, const std::string& container_id) {
  if (auto scope = oci::ContainerScope(cgroup_parent, container_id); scope.ok()) {
    return scope->path;  // cricket-<id>.scope in the pod's slice
  }
  return CgroupParentPath(cgroup_parent) + "/" + container_id;
}

Result<oci::Spec> BuildContainerSpec(const ContainerSpecInput& in) {
  const v1::ContainerConfig& config = *in.config;
  oci::Spec spec = oci::DefaultSpec();
  spec.root->path = "rootfs";
  spec.root->readonly = config.linux().security_context().readonly_rootfs();
  // With the node's network the container shares the node's UTS namespace: no hostname to set.
  spec.hostname = in.sandbox.namespaces.network() != v1::NODE ? in.sandbox.hostname : "";
  spec.process->args = EffectiveArgs(config, *in.image);
  if (spec.process->args.empty()) {
    return Error(Code::kInvalidArgument,
                 "no command: neither the container config nor the image gives one");
  }
  spec.process->env = MergedEnv(config, *in.image);
  spec.process->cwd = !config.working_dir().empty() ? config.working_dir()
                      : !in.image->working_dir.empty() ? in.image->working_dir
                                                       : "/";
  spec.process->terminal = config.tty();
  CR_ASSIGN_OR_RETURN(spec.process->user,
                      ResolveUser(config.linux().security_context(), in.image->user, in.rootfs));
  CR_RETURN_IF_ERROR(AddMounts(in, spec));
  SetNamespaces(in, spec);
  spec.linux->cgroups_path = ContainerCgroupPath(in.sandbox.cgroup_parent, in.container_id);
  CR_RETURN_IF_ERROR(SetResources(config.linux().resources(), spec));
  CR_RETURN_IF_ERROR(ApplySecurityContext(config.linux().security_context(), spec));
  CR_RETURN_IF_ERROR(AddDevices(config, spec));
  for (const auto& [key, value] : config.annotations()) {
    spec.annotations[key] = value;
  }
  spec.annotations["io.kubernetes.cri.sandbox-id"] = in.sandbox.id;
  spec.annotations["io.kubernetes.cri.container-type"] = "container";
  return spec;
}

}  // namespace cricket::cri
