#pragma once

// BuildContainerSpec: a CRI ContainerConfig, its image's config and its sandbox turned into the
// OCI spec the shim runs. Pure apart from reading the rootfs's /etc/passwd and /etc/group for
// user names; unit-tested without root.

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/result.h"
#include "oci/spec.h"
#include "runtime/v1/api.pb.h"
#include "storage/manifest.h"

namespace cricket::cri {

// What a container takes from its sandbox.
struct SandboxContext {
  std::string id;
  std::string netns_path;   // empty: the node's network
  pid_t infra_pid = 0;      // the sandbox process whose pid/ipc/uts namespaces are shared
  std::string hostname;
  std::string resolv_conf_path;
  std::string hosts_path;
  std::string hostname_path;
  std::string cgroup_parent;  // "/kubepods/..." or empty for Cricket's default
  runtime::v1::NamespaceOption namespaces;  // the pod's modes
};

struct ContainerSpecInput {
  std::string container_id;
  const runtime::v1::ContainerConfig* config = nullptr;
  const storage::ImageConfig* image = nullptr;
  SandboxContext sandbox;
  std::string rootfs;  // the mounted rootfs, for user and group names
  // The node's mount table, read when a mount asks for propagation (tests point it elsewhere).
  std::string mountinfo_path = "/proc/self/mountinfo";
};

// kInvalidArgument naming the CRI field for a config that cannot run (no command at all, a
// relative container path, run_as_group without a user, an unknown user name, a bad
// capability), kNotFound for a missing localhost seccomp profile, kFailedPrecondition for a
// propagating mount whose host mount cannot propagate (container_spec_propagation.h).
Result<oci::Spec> BuildContainerSpec(const ContainerSpecInput& input);

// CRI resources (cpu shares/quota/period/cpuset, memory and swap limits, hugepage limits, the
// unified map) as OCI ones, merged into `res`. Check them first with CheckCriResources.
void ApplyCriResources(const runtime::v1::LinuxContainerResources& r, oci::Resources& res);
// kInvalidArgument naming `field`.hugepage_limits[i].page_size for a size that is no page size
// ("2MB"): it becomes part of a cgroup file name.
Result<void> CheckCriResources(const runtime::v1::LinuxContainerResources& r,
                               const std::string& field);

// Kubernetes' command rule: command replaces the image's entrypoint (and then drops its cmd);
// args replace the image's cmd.
std::vector<std::string> EffectiveArgs(const runtime::v1::ContainerConfig& config,
                                       const storage::ImageConfig& image);

// CRI id mappings (userns_options uids/gids, mounts[].uidmappings) as `Mapping`s, any struct
// {container_id, host_id, size}: oci::IdMapping for the spec, storage::IdMapping for the
// rootfs (storage/overlay_mount.h), which may not use oci's type.
template <typename Mapping>
std::vector<Mapping> ConvertIdMappings(
    const google::protobuf::RepeatedPtrField<runtime::v1::IDMapping>& maps) {
  std::vector<Mapping> out;
  for (const auto& m : maps) {
    out.push_back(Mapping{m.container_id(), m.host_id(), m.length()});
  }
  return out;
}
inline std::vector<oci::IdMapping> OciMappings(
    const google::protobuf::RepeatedPtrField<runtime::v1::IDMapping>& maps) {
  return ConvertIdMappings<oci::IdMapping>(maps);
}

// The pod's cgroup parent as an absolute path; /cricket, cricketd's own, when the pod names none;
// a slice name's systemd path ("a-b.slice" -> "/a.slice/a-b.slice").
std::string CgroupParentPath(const std::string& cgroup_parent);
// The cgroup a container of `sandbox` gets: <parent or /cricket>/<container id>, or its scope
// <slice path>/cricket-<id>.scope when the parent is a slice (cri/systemd_scopes.h).
std::string ContainerCgroupPath(const std::string& cgroup_parent, const std::string& container_id);

}  // namespace cricket::cri
