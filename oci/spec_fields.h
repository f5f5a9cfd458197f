#pragma once

// The one description of config.json's objects: for each struct of oci/spec.h, its JSON key,
// member and whether the writer may leave it out. The reader (spec_json_read.h) and the writer
// (spec_json_write.cc) both walk these tables, so adding a field here is all it takes for both
// directions, and a field cannot be read without being written or the other way round.
//
// `Fields(s, f)` calls f(key, s.member, emit) for each member, in the spec's order; s may be
// const (writing) or not (reading). Found by argument-dependent lookup.

#include <concepts>
#include <type_traits>

#include "oci/spec.h"

namespace cricket::oci {

// What the writer does with a member that holds its default value (an empty string, list or
// map, an absent optional, false or 0). The reader treats both alike: an absent key leaves the
// default.
enum class Emit {
  kAlways,       // written even when it holds the default ("args": [])
  kUnlessEmpty,  // left out when it holds the default
};

// S is T or const T.
template <typename S, typename T>
concept SpecStruct = std::same_as<std::remove_const_t<S>, T>;

template <SpecStruct<User> S, typename F>
void Fields(S& s, F&& f) {
  f("uid", s.uid, Emit::kAlways);
  f("gid", s.gid, Emit::kAlways);
  f("umask", s.umask, Emit::kUnlessEmpty);
  f("additionalGids", s.additional_gids, Emit::kUnlessEmpty);
}

template <SpecStruct<Capabilities> S, typename F>
void Fields(S& s, F&& f) {
  f("bounding", s.bounding, Emit::kAlways);
  f("effective", s.effective, Emit::kAlways);
  f("inheritable", s.inheritable, Emit::kAlways);
  f("permitted", s.permitted, Emit::kAlways);
  f("ambient", s.ambient, Emit::kAlways);
}

template <SpecStruct<Rlimit> S, typename F>
void Fields(S& s, F&& f) {
  f("type", s.type, Emit::kAlways);
  f("hard", s.hard, Emit::kAlways);
  f("soft", s.soft, Emit::kAlways);
}

template <SpecStruct<ConsoleSize> S, typename F>
void Fields(S& s, F&& f) {
  f("height", s.height, Emit::kAlways);
  f("width", s.width, Emit::kAlways);
}

template <SpecStruct<Process> S, typename F>
void Fields(S& s, F&& f) {
  f("terminal", s.terminal, Emit::kAlways);
  f("consoleSize", s.console_size, Emit::kUnlessEmpty);
  f("user", s.user, Emit::kAlways);
  f("args", s.args, Emit::kAlways);
  f("env", s.env, Emit::kUnlessEmpty);
  f("cwd", s.cwd, Emit::kAlways);
  f("capabilities", s.capabilities, Emit::kUnlessEmpty);
  f("rlimits", s.rlimits, Emit::kUnlessEmpty);
  f("noNewPrivileges", s.no_new_privileges, Emit::kUnlessEmpty);
  f("apparmorProfile", s.apparmor_profile, Emit::kUnlessEmpty);
  f("oomScoreAdj", s.oom_score_adj, Emit::kUnlessEmpty);
  f("selinuxLabel", s.selinux_label, Emit::kUnlessEmpty);
}

template <SpecStruct<Root> S, typename F>
void Fields(S& s, F&& f) {
  f("path", s.path, Emit::kAlways);
  f("readonly", s.readonly, Emit::kAlways);
}

template <SpecStruct<IdMapping> S, typename F>
void Fields(S& s, F&& f) {
  f("containerID", s.container_id, Emit::kAlways);
  f("hostID", s.host_id, Emit::kAlways);
  f("size", s.size, Emit::kAlways);
}

template <SpecStruct<Mount> S, typename F>
void Fields(S& s, F&& f) {
  f("destination", s.destination, Emit::kAlways);
  f("type", s.type, Emit::kUnlessEmpty);
  f("source", s.source, Emit::kUnlessEmpty);
  f("options", s.options, Emit::kUnlessEmpty);
  f("uidMappings", s.uid_mappings, Emit::kUnlessEmpty);
  f("gidMappings", s.gid_mappings, Emit::kUnlessEmpty);
}

template <SpecStruct<Hook> S, typename F>
void Fields(S& s, F&& f) {
  f("path", s.path, Emit::kAlways);
  f("args", s.args, Emit::kUnlessEmpty);
  f("env", s.env, Emit::kUnlessEmpty);
  f("timeout", s.timeout, Emit::kUnlessEmpty);
}

template <SpecStruct<Hooks> S, typename F>
void Fields(S& s, F&& f) {
  f("prestart", s.prestart, Emit::kUnlessEmpty);
  f("createRuntime", s.create_runtime, Emit::kUnlessEmpty);
  f("createContainer", s.create_container, Emit::kUnlessEmpty);
  f("startContainer", s.start_container, Emit::kUnlessEmpty);
  f("poststart", s.poststart, Emit::kUnlessEmpty);
  f("poststop", s.poststop, Emit::kUnlessEmpty);
}

template <SpecStruct<Namespace> S, typename F>
void Fields(S& s, F&& f) {
  f("type", s.type, Emit::kAlways);
  f("path", s.path, Emit::kUnlessEmpty);
}

template <SpecStruct<Device> S, typename F>
void Fields(S& s, F&& f) {
  f("type", s.type, Emit::kAlways);
  f("path", s.path, Emit::kAlways);
  f("major", s.major, Emit::kAlways);
  f("minor", s.minor, Emit::kAlways);
  f("fileMode", s.file_mode, Emit::kUnlessEmpty);
  f("uid", s.uid, Emit::kUnlessEmpty);
  f("gid", s.gid, Emit::kUnlessEmpty);
}

template <SpecStruct<DeviceCgroup> S, typename F>
void Fields(S& s, F&& f) {
  f("allow", s.allow, Emit::kAlways);
  f("type", s.type, Emit::kUnlessEmpty);
  f("major", s.major, Emit::kUnlessEmpty);
  f("minor", s.minor, Emit::kUnlessEmpty);
  f("access", s.access, Emit::kUnlessEmpty);
}

template <SpecStruct<MemoryResources> S, typename F>
void Fields(S& s, F&& f) {
  f("limit", s.limit, Emit::kUnlessEmpty);
  f("reservation", s.reservation, Emit::kUnlessEmpty);
  f("swap", s.swap, Emit::kUnlessEmpty);
  f("swappiness", s.swappiness, Emit::kUnlessEmpty);
  f("disableOOMKiller", s.disable_oom_killer, Emit::kUnlessEmpty);
}

template <SpecStruct<CpuResources> S, typename F>
void Fields(S& s, F&& f) {
  f("shares", s.shares, Emit::kUnlessEmpty);
  f("quota", s.quota, Emit::kUnlessEmpty);
  f("burst", s.burst, Emit::kUnlessEmpty);
  f("period", s.period, Emit::kUnlessEmpty);
  f("realtimeRuntime", s.realtime_runtime, Emit::kUnlessEmpty);
  f("realtimePeriod", s.realtime_period, Emit::kUnlessEmpty);
  f("cpus", s.cpus, Emit::kUnlessEmpty);
  f("mems", s.mems, Emit::kUnlessEmpty);
  f("idle", s.idle, Emit::kUnlessEmpty);
}

template <SpecStruct<BlockIo> S, typename F>
void Fields(S& s, F&& f) {
  f("weight", s.weight, Emit::kUnlessEmpty);
  f("leafWeight", s.leaf_weight, Emit::kUnlessEmpty);
}

template <SpecStruct<HugepageLimit> S, typename F>
void Fields(S& s, F&& f) {
  f("pageSize", s.page_size, Emit::kAlways);
  f("limit", s.limit, Emit::kAlways);
}

template <SpecStruct<PidsResources> S, typename F>
void Fields(S& s, F&& f) {
  f("limit", s.limit, Emit::kAlways);
}

template <SpecStruct<Resources> S, typename F>
void Fields(S& s, F&& f) {
  f("devices", s.devices, Emit::kUnlessEmpty);
  f("memory", s.memory, Emit::kUnlessEmpty);
  f("cpu", s.cpu, Emit::kUnlessEmpty);
  f("pids", s.pids, Emit::kUnlessEmpty);
  f("blockIO", s.block_io, Emit::kUnlessEmpty);
  f("hugepageLimits", s.hugepage_limits, Emit::kUnlessEmpty);
  f("unified", s.unified, Emit::kUnlessEmpty);
}

template <SpecStruct<SeccompArg> S, typename F>
void Fields(S& s, F&& f) {
  f("index", s.index, Emit::kAlways);
  f("value", s.value, Emit::kAlways);
  f("valueTwo", s.value_two, Emit::kUnlessEmpty);
  f("op", s.op, Emit::kAlways);
}

template <SpecStruct<SeccompSyscall> S, typename F>
void Fields(S& s, F&& f) {
  f("names", s.names, Emit::kAlways);
  f("action", s.action, Emit::kAlways);
  f("errnoRet", s.errno_ret, Emit::kUnlessEmpty);
  f("args", s.args, Emit::kUnlessEmpty);
}

template <SpecStruct<Seccomp> S, typename F>
void Fields(S& s, F&& f) {
  f("defaultAction", s.default_action, Emit::kAlways);
  f("defaultErrnoRet", s.default_errno_ret, Emit::kUnlessEmpty);
  f("architectures", s.architectures, Emit::kUnlessEmpty);
  f("flags", s.flags, Emit::kUnlessEmpty);
  f("listenerPath", s.listener_path, Emit::kUnlessEmpty);
  f("syscalls", s.syscalls, Emit::kUnlessEmpty);
}

template <SpecStruct<Linux> S, typename F>
void Fields(S& s, F&& f) {
  f("namespaces", s.namespaces, Emit::kUnlessEmpty);
  f("uidMappings", s.uid_mappings, Emit::kUnlessEmpty);
  f("gidMappings", s.gid_mappings, Emit::kUnlessEmpty);
  f("devices", s.devices, Emit::kUnlessEmpty);
  f("cgroupsPath", s.cgroups_path, Emit::kUnlessEmpty);
  f("resources", s.resources, Emit::kUnlessEmpty);
  f("rootfsPropagation", s.rootfs_propagation, Emit::kUnlessEmpty);
  f("seccomp", s.seccomp, Emit::kUnlessEmpty);
  f("sysctl", s.sysctl, Emit::kUnlessEmpty);
  f("maskedPaths", s.masked_paths, Emit::kUnlessEmpty);
  f("readonlyPaths", s.readonly_paths, Emit::kUnlessEmpty);
  f("mountLabel", s.mount_label, Emit::kUnlessEmpty);
}

template <SpecStruct<Spec> S, typename F>
void Fields(S& s, F&& f) {
  f("ociVersion", s.oci_version, Emit::kAlways);
  f("process", s.process, Emit::kUnlessEmpty);
  f("root", s.root, Emit::kUnlessEmpty);
  f("hostname", s.hostname, Emit::kUnlessEmpty);
  f("domainname", s.domainname, Emit::kUnlessEmpty);
  f("mounts", s.mounts, Emit::kUnlessEmpty);
  f("hooks", s.hooks, Emit::kUnlessEmpty);
  f("annotations", s.annotations, Emit::kUnlessEmpty);
  f("linux", s.linux, Emit::kUnlessEmpty);
}

// The structs that have a table above.
template <typename T>
concept HasSpecFields = requires(T& t) {
  Fields(t, [](const char*, auto&, Emit) {});
};

}  // namespace cricket::oci
