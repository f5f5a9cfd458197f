#include "oci/spec_default.h"

namespace cricket::oci {
namespace {

Mount MakeMount(std::string destination, std::string type, std::string source,
                std::vector<std::string> options) {
  Mount m;
  m.destination = std::move(destination);
  m.type = std::move(type);
  m.source = std::move(source);
  m.options = std::move(options);
  return m;
}

std::vector<Mount> DefaultMounts() {
  return {
      MakeMount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      MakeMount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      MakeMount("/dev/pts", "devpts", "devpts",
                {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      MakeMount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      MakeMount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      MakeMount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      MakeMount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}),
  };
}

DeviceCgroup Allow(const char* type, int64_t major, std::optional<int64_t> minor) {
  DeviceCgroup d;
  d.allow = true;
  d.type = type;
  d.major = major;
  d.minor = minor;
  d.access = "rwm";
  return d;
}

// Deny all, then the default devices plus the pty devices, as containerd's
// WithDefaultUnixDevices does.
std::vector<DeviceCgroup> DefaultDeviceRules() {
  std::vector<DeviceCgroup> rules;
  DeviceCgroup deny_all;
  deny_all.access = "rwm";
  rules.push_back(deny_all);
  for (const Device& d : DefaultDevices()) {
    rules.push_back(Allow("c", d.major, d.minor));
  }
  rules.push_back(Allow("c", 5, 1));        // /dev/console
  rules.push_back(Allow("c", 5, 2));        // /dev/ptmx
  rules.push_back(Allow("c", 136, std::nullopt));  // /dev/pts/*
  return rules;
}

}  // namespace

const std::vector<std::string>& DefaultCapabilities() {
  static const std::vector<std::string> kCaps = {
      "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",   "CAP_FOWNER",
      "CAP_MKNOD",  "CAP_NET_RAW",      "CAP_SETGID",   "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",     "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",   "CAP_AUDIT_WRITE",
  };
  return kCaps;
}

const std::vector<Device>& DefaultDevices() {
  static const std::vector<Device> kDevices = [] {
    auto node = [](const char* path, int64_t major, int64_t minor) {
      Device d;
      d.type = "c";
      d.path = path;
      d.major = major;
      d.minor = minor;
      d.file_mode = 0666;
      d.uid = 0;
      d.gid = 0;
      return d;
    };
    return std::vector<Device>{node("/dev/null", 1, 3),   node("/dev/zero", 1, 5),
                               node("/dev/full", 1, 7),   node("/dev/random", 1, 8),
                               node("/dev/urandom", 1, 9), node("/dev/tty", 5, 0)};
  }();
  return kDevices;
}

Spec DefaultSpec() {
  Spec spec;
  spec.oci_version = kOciVersion;
  Process& p = spec.process.emplace();
  p.args = {"sh"};
  p.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
  p.cwd = "/";
  p.terminal = false;
  Capabilities& caps = p.capabilities.emplace();
  caps.bounding = DefaultCapabilities();
  caps.effective = DefaultCapabilities();
  caps.permitted = DefaultCapabilities();
  p.rlimits = {Rlimit{"RLIMIT_NOFILE", 1024, 1024}};
  p.no_new_privileges = true;

  spec.root = Root{"rootfs", false};
  spec.hostname = "cricket";
  spec.mounts = DefaultMounts();

  Linux& linux_part = spec.linux.emplace();
  for (const char* type : {"pid", "network", "ipc", "uts", "mount", "cgroup"}) {
    linux_part.namespaces.push_back(Namespace{type, ""});
  }
  linux_part.resources.emplace().devices = DefaultDeviceRules();
  linux_part.masked_paths = {
      "/proc/acpi",        "/proc/asound",      "/proc/kcore",       "/proc/keys",
      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
      "/proc/scsi",        "/sys/firmware",     "/sys/devices/virtual/powercap",
  };
  linux_part.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                               "/proc/sysrq-trigger"};
  return spec;
}

}  // namespace cricket::oci
