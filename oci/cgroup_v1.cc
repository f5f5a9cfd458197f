// The cgroup v1 backend of CgroupManager: one directory per mounted hierarchy (hybrid nodes
// too, where every controller lives on v1).

#include <unistd.h>

#include <algorithm>
#include <optional>

#include "common/files.h"
#include "common/log.h"
#include "oci/cgroup_backend.h"
#include "oci/cgroup_fs.h"

namespace cricket::oci {
namespace {

bool Has(const CgroupInfo::V1Hierarchy& h, const char* controller) {
  return std::find(h.controllers.begin(), h.controllers.end(), controller) != h.controllers.end();
}

std::string DeviceRule(const DeviceCgroup& d) {
  std::string type = d.type.empty() ? "a" : d.type;
  std::string major = d.major ? std::to_string(*d.major) : "*";
  std::string minor = d.minor ? std::to_string(*d.minor) : "*";
  std::string access = d.access.empty() ? "rwm" : d.access;
  return type + " " + major + ":" + minor + " " + access;
}

class CgroupV1 final : public CgroupBackend {
 public:
  CgroupV1(Syscalls& sys, CgroupInfo info, std::string path)
      : CgroupBackend(sys), info_(std::move(info)), path_(std::move(path)) {}

  const std::string& path() const override { return path_; }

  // FREEZING may last a moment; the write itself returns at once.
  Result<void> WriteFreezeState(bool frozen) override {
    return Write("freezer", "freezer.state", frozen ? "FROZEN" : "THAWED");
  }

  Result<bool> Frozen() const override {
    auto dir = Dir("freezer");
    if (!dir) {
      return false;
    }
    auto state = ReadFile(*dir + "/freezer.state");
    return state.ok() && state->rfind("FROZEN", 0) == 0;
  }

  std::string FreezerDir() const override { return Dir("freezer").value_or(""); }

  Result<void> AddProcess(pid_t pid) override {
    for (const auto& h : info_.v1) {
      CR_RETURN_IF_ERROR(
          cgroupfs::WriteControl(sys_, h.mount_point + path_, "cgroup.procs", std::to_string(pid)));
    }
    return Ok();
  }

  std::vector<std::string> SelfJoinFiles() const override {
    std::vector<std::string> files;
    for (const auto& h : info_.v1) {
      files.push_back(h.mount_point + path_ + "/tasks");
    }
    return files;
  }

  Result<UniqueFd> OpenForClone() const override { return UniqueFd(); }

  Result<std::vector<pid_t>> Pids() const override {
    for (const auto& h : info_.v1) {
      if (Has(h, "pids") || Has(h, "memory")) {
        return cgroupfs::ReadProcs(h.mount_point + path_);
      }
    }
    if (info_.v1.empty()) {
      return std::vector<pid_t>{};
    }
    return cgroupfs::ReadProcs(info_.v1[0].mount_point + path_);
  }

  Result<CgroupStats> Stats() const override {
    CgroupStats s;
    if (auto dir = Dir("cpuacct")) {
      CR_ASSIGN_OR_RETURN(s.cpu_usage_ns, cgroupfs::ReadNumber(*dir + "/cpuacct.usage"));
      uint64_t user_ticks = 0;
      uint64_t system_ticks = 0;
      CR_RETURN_IF_ERROR(cgroupfs::ReadKeyedValues(
          *dir + "/cpuacct.stat", {{"user", &user_ticks}, {"system", &system_ticks}}));
      // cpuacct.stat counts USER_HZ ticks.
      static const uint64_t kNsPerTick =
          1'000'000'000 / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
      s.cpu_user_ns = user_ticks * kNsPerTick;
      s.cpu_system_ns = system_ticks * kNsPerTick;
    }
    if (auto dir = Dir("memory")) {
      CR_ASSIGN_OR_RETURN(s.memory_usage_bytes, cgroupfs::ReadNumber(*dir + "/memory.usage_in_bytes"));
      uint64_t inactive = 0;
      CR_RETURN_IF_ERROR(cgroupfs::ReadKeyedValues(*dir + "/memory.stat",
                                                   {{"total_inactive_file", &inactive},
                                                    {"total_rss", &s.memory_rss_bytes},
                                                    {"total_cache", &s.memory_cache_bytes}}));
      s.memory_working_set_bytes = s.memory_usage_bytes > inactive ? s.memory_usage_bytes - inactive : 0;
      CR_ASSIGN_OR_RETURN(uint64_t limit, cgroupfs::ReadNumber(*dir + "/memory.limit_in_bytes"));
      // v1 says "no limit" with a huge page-rounded LONG_MAX.
      s.memory_limit_bytes = limit >= (uint64_t{1} << 62) ? 0 : limit;
      CR_ASSIGN_OR_RETURN(s.oom_kills, cgroupfs::ReadKeyedValue(*dir + "/memory.oom_control", "oom_kill"));
      CR_ASSIGN_OR_RETURN(s.memory_failcnt, cgroupfs::ReadNumber(*dir + "/memory.failcnt"));
    }
    if (auto dir = Dir("pids")) {
      CR_ASSIGN_OR_RETURN(s.pids_current, cgroupfs::ReadNumber(*dir + "/pids.current"));
    }
    return s;
  }

  Result<bool> OomKilled() const override {
    auto dir = Dir("memory");
    if (!dir) {
      return false;
    }
    CR_ASSIGN_OR_RETURN(uint64_t kills, cgroupfs::ReadKeyedValue(*dir + "/memory.oom_control", "oom_kill"));
    return kills > 0;
  }

  // memory.oom_control signals nothing to inotify (v1 notifies through cgroup.event_control
  // eventfds); the read at exit suffices, since v1 cgroups are ours to remove.
  std::string OomEventsFile() const override { return ""; }

  Result<void> Destroy() override {
    std::vector<std::string> dirs;
    for (const auto& h : info_.v1) {
      dirs.push_back(h.mount_point + path_);
    }
    return cgroupfs::RemoveDirs(sys_, dirs);
  }

 private:
  Result<void> MakeDirs(std::vector<std::string>& created) override {
    for (const auto& h : info_.v1) {
      size_t first_new = created.size();
      CR_RETURN_IF_ERROR(cgroupfs::MakeChain(sys_, h.mount_point, path_, created));
      if (Has(h, "cpuset")) {
        CR_RETURN_IF_ERROR(InheritCpuset(h.mount_point, created, first_new));
      }
    }
    return Ok();
  }

  // A new cpuset cgroup starts with empty cpus and mems and refuses tasks: copy the parent's.
  Result<void> InheritCpuset(const std::string& mount, const std::vector<std::string>& created,
                             size_t first_new) {
    for (size_t i = first_new; i < created.size(); ++i) {
      std::string parent = created[i].substr(0, created[i].find_last_of('/'));
      for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
        auto value = ReadFile(parent + "/" + file);
        if (!value.ok()) {
          return value.error().Wrap("inherit " + std::string(file) + " below " + mount);
        }
        std::string trimmed = value->substr(0, value->find('\n'));
        if (!trimmed.empty()) {
          CR_RETURN_IF_ERROR(cgroupfs::WriteControl(sys_, created[i], file, trimmed));
        }
      }
    }
    return Ok();
  }

  // The container's directory in the hierarchy holding `controller`, if it is mounted.
  std::optional<std::string> Dir(const char* controller) const {
    for (const auto& h : info_.v1) {
      if (Has(h, controller)) {
        return h.mount_point + path_;
      }
    }
    return std::nullopt;
  }

  Result<void> Write(const char* controller, const std::string& file, const std::string& value) {
    auto dir = Dir(controller);
    if (!dir) {
      return Error(Code::kFailedPrecondition,
                   std::string("cgroup v1 controller ") + controller + " is not mounted (" + file + ")");
    }
    return cgroupfs::WriteControl(sys_, *dir, file, value);
  }

  Result<void> ApplyCpu(const CpuResources& cpu) {
    if (cpu.shares && *cpu.shares != 0) {
      CR_RETURN_IF_ERROR(Write("cpu", "cpu.shares", std::to_string(*cpu.shares)));
    }
    if (cpu.period) {
      CR_RETURN_IF_ERROR(Write("cpu", "cpu.cfs_period_us", std::to_string(*cpu.period)));
    }
    if (cpu.quota) {
      CR_RETURN_IF_ERROR(Write("cpu", "cpu.cfs_quota_us", std::to_string(*cpu.quota)));
    }
    if (cpu.realtime_period) {
      CR_RETURN_IF_ERROR(Write("cpu", "cpu.rt_period_us", std::to_string(*cpu.realtime_period)));
    }
    if (cpu.realtime_runtime) {
      CR_RETURN_IF_ERROR(Write("cpu", "cpu.rt_runtime_us", std::to_string(*cpu.realtime_runtime)));
    }
    if (!cpu.cpus.empty()) {
      CR_RETURN_IF_ERROR(Write("cpuset", "cpuset.cpus", cpu.cpus));
    }
    if (!cpu.mems.empty()) {
      CR_RETURN_IF_ERROR(Write("cpuset", "cpuset.mems", cpu.mems));
    }
    return Ok();
  }

  Result<void> ApplyMemory(const MemoryResources& mem) {
    if (mem.limit) {
      auto limit = Write("memory", "memory.limit_in_bytes", std::to_string(*mem.limit));
      // v1 keeps limit <= memsw: raising both (an update) has to raise memsw first.
      if (!limit.ok() && limit.error().sys_errno() == EINVAL && mem.swap) {
        CR_RETURN_IF_ERROR(Write("memory", "memory.memsw.limit_in_bytes", std::to_string(*mem.swap)));
        limit = Write("memory", "memory.limit_in_bytes", std::to_string(*mem.limit));
      }
      CR_RETURN_IF_ERROR(limit);
    }
    if (mem.reservation) {
      CR_RETURN_IF_ERROR(Write("memory", "memory.soft_limit_in_bytes", std::to_string(*mem.reservation)));
    }
    if (mem.swap) {
      auto swap = Write("memory", "memory.memsw.limit_in_bytes", std::to_string(*mem.swap));
      // Without swap accounting (swapaccount=0) the file is missing; unlimited asks nothing.
      if (!swap.ok() && !(swap.error().code() == Code::kNotFound && *mem.swap < 0)) {
        return swap;
      }
    }
    if (mem.swappiness && *mem.swappiness <= 100) {
      CR_RETURN_IF_ERROR(Write("memory", "memory.swappiness", std::to_string(*mem.swappiness)));
    }
    if (mem.disable_oom_killer.value_or(false)) {
      CR_RETURN_IF_ERROR(Write("memory", "memory.oom_control", "1"));
    }
    return Ok();
  }

  Result<void> Apply(const Resources& r) override {
    if (Dir("devices")) {
      for (const auto& d : r.devices) {
        CR_RETURN_IF_ERROR(Write("devices", d.allow ? "devices.allow" : "devices.deny", DeviceRule(d)));
      }
    }
    if (r.cpu) {
      CR_RETURN_IF_ERROR(ApplyCpu(*r.cpu));
    }
    if (r.memory) {
      CR_RETURN_IF_ERROR(ApplyMemory(*r.memory));
    }
    if (r.pids) {
      CR_RETURN_IF_ERROR(Write("pids", "pids.max", r.pids->limit > 0 ? std::to_string(r.pids->limit) : "max"));
    }
    if (r.block_io && r.block_io->weight) {
      CR_RETURN_IF_ERROR(Write("blkio", "blkio.weight", std::to_string(*r.block_io->weight)));
    }
    for (const auto& h : r.hugepage_limits) {
      CR_RETURN_IF_ERROR(Write("hugetlb", "hugetlb." + h.page_size + ".limit_in_bytes", std::to_string(h.limit)));
    }
    if (!r.unified.empty()) {
      return Error(Code::kInvalidArgument, "linux.resources.unified: needs cgroup v2, this node runs v1");
    }
    return Ok();
  }

  CgroupInfo info_;
  std::string path_;
};

}  // namespace

std::unique_ptr<CgroupManager> NewCgroupV1Manager(Syscalls& sys, const CgroupInfo& info,
                                                  const std::string& path) {
  return std::make_unique<CgroupV1>(sys, info, path);
}

}  // namespace cricket::oci
