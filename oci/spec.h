#pragma once

// The OCI runtime-spec configuration (config.json), Linux parts, as plain structs.
// Field names follow github.com/opencontainers/runtime-spec (config.md, config-linux.md).
// std::optional marks a field the spec lets a config leave out; JSON reading and writing live
// in oci/spec_json.h (keys and what is left out when empty: oci/spec_fields.h), checks in
// oci/spec_validate.h, defaults in oci/spec_default.h.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cricket::oci {

// The runtime-spec release this code follows.
inline constexpr const char* kOciVersion = "1.2.0";

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;

  bool operator==(const User&) const = default;
};

struct Capabilities {
  std::vector<std::string> bounding;
  std::vector<std::string> effective;
  std::vector<std::string> inheritable;
  std::vector<std::string> permitted;
  std::vector<std::string> ambient;

  bool operator==(const Capabilities&) const = default;
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"
  uint64_t hard = 0;
  uint64_t soft = 0;

  bool operator==(const Rlimit&) const = default;
};

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;

  bool operator==(const ConsoleSize&) const = default;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::string apparmor_profile;
  std::optional<int> oom_score_adj;
  std::string selinux_label;

  bool operator==(const Process&) const = default;
};

struct Root {
  std::string path;
  bool readonly = false;

  bool operator==(const Root&) const = default;
};

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;

  bool operator==(const IdMapping&) const = default;
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;

  bool operator==(const Mount&) const = default;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;  // seconds

  bool operator==(const Hook&) const = default;
};

struct Hooks {
  std::vector<Hook> prestart;
  std::vector<Hook> create_runtime;
  std::vector<Hook> create_container;
  std::vector<Hook> start_container;
  std::vector<Hook> poststart;
  std::vector<Hook> poststop;

  bool operator==(const Hooks&) const = default;
};

struct Namespace {
  std::string type;  // pid, network, mount, ipc, uts, user, cgroup, time
  std::string path;  // join this one instead of creating a new one

  bool operator==(const Namespace&) const = default;
};

struct Device {
  std::string type;  // c, b, u or p
  std::string path;
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;

  bool operator==(const Device&) const = default;
};

struct DeviceCgroup {
  bool allow = false;
  std::string type;  // a, c or b; empty means all
  std::optional<int64_t> major;
  std::optional<int64_t> minor;
  std::string access;  // some of r, w, m

  bool operator==(const DeviceCgroup&) const = default;
};

struct MemoryResources {
  std::optional<int64_t> limit;
  std::optional<int64_t> reservation;
  std::optional<int64_t> swap;
  std::optional<uint64_t> swappiness;
  std::optional<bool> disable_oom_killer;

  bool operator==(const MemoryResources&) const = default;
};

struct CpuResources {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> burst;
  std::optional<uint64_t> period;
  std::optional<int64_t> realtime_runtime;
  std::optional<uint64_t> realtime_period;
  std::string cpus;
  std::string mems;
  std::optional<int64_t> idle;

  bool operator==(const CpuResources&) const = default;
};

struct BlockIo {
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leaf_weight;

  bool operator==(const BlockIo&) const = default;
};

struct HugepageLimit {
  std::string page_size;  // "2MB"
  uint64_t limit = 0;

  bool operator==(const HugepageLimit&) const = default;
};

struct PidsResources {
  int64_t limit = 0;

  bool operator==(const PidsResources&) const = default;
};

struct Resources {
  std::vector<DeviceCgroup> devices;
  std::optional<MemoryResources> memory;
  std::optional<CpuResources> cpu;
  std::optional<PidsResources> pids;
  std::optional<BlockIo> block_io;
  std::vector<HugepageLimit> hugepage_limits;
  std::map<std::string, std::string> unified;

  bool operator==(const Resources&) const = default;
};

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  std::string op;  // SCMP_CMP_EQ ...

  bool operator==(const SeccompArg&) const = default;
};

struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;  // SCMP_ACT_ALLOW ...
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;

  bool operator==(const SeccompSyscall&) const = default;
};

struct Seccomp {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // SCMP_ARCH_X86_64 ...
  std::vector<std::string> flags;          // SECCOMP_FILTER_FLAG_LOG ...
  std::string listener_path;
  std::vector<SeccompSyscall> syscalls;

  bool operator==(const Seccomp&) const = default;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
  std::vector<Device> devices;
  std::string cgroups_path;
  std::optional<Resources> resources;
  std::string rootfs_propagation;
  std::optional<Seccomp> seccomp;
  std::map<std::string, std::string> sysctl;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::string mount_label;

  bool operator==(const Linux&) const = default;
};

struct Spec {
  std::string oci_version;
  std::optional<Process> process;
  std::optional<Root> root;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  std::optional<Hooks> hooks;
  std::map<std::string, std::string> annotations;
  std::optional<Linux> linux;

  bool operator==(const Spec&) const = default;
};

}  // namespace cricket::oci
