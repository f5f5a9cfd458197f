// The cgroup v2 (unified) backend of CgroupManager.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "common/files.h"
#include "common/text.h"
#include "oci/cgroup_backend.h"
#include "oci/cgroup_fs.h"
#include "oci/device_filter.h"

namespace cricket::oci {
namespace {

// OCI values are v1-shaped; these are runc's conversions to the v2 ranges.
uint64_t SharesToWeight(uint64_t shares) {
  if (shares == 0) {
    return 0;
  }
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t BlkioToIoWeight(uint16_t weight) {
  if (weight == 0) {
    return 0;
  }
  return 1 + (static_cast<uint64_t>(std::clamp<uint16_t>(weight, 10, 1000)) - 10) * 9999 / 990;
}

std::string Limit(int64_t value) { return value < 0 ? "max" : std::to_string(value); }

class CgroupV2 final : public CgroupBackend {
 public:
  CgroupV2(Syscalls& sys, std::string root, std::string path)
      : CgroupBackend(sys), root_(std::move(root)), path_(std::move(path)), dir_(root_ + path_) {}

  const std::string& path() const override { return path_; }

  Result<void> WriteFreezeState(bool frozen) override {
    return Write("cgroup.freeze", frozen ? "1" : "0");
  }

  Result<bool> Frozen() const override {
    CR_ASSIGN_OR_RETURN(uint64_t frozen, cgroupfs::ReadKeyedValue(dir_ + "/cgroup.events", "frozen"));
    return frozen == 1;
  }

  std::string FreezerDir() const override { return dir_; }

  Result<void> AddProcess(pid_t pid) override {
    return cgroupfs::WriteControl(sys_, dir_, "cgroup.procs", std::to_string(pid));
  }

  // v2 has no such shortcut: cgroup.procs always takes the threadgroup lock.
  std::vector<std::string> SelfJoinFiles() const override { return {}; }

  Result<UniqueFd> OpenForClone() const override {
    return sys_.Open(dir_, O_RDONLY | O_DIRECTORY, 0);
  }

  Result<std::vector<pid_t>> Pids() const override { return cgroupfs::ReadProcs(dir_); }

  Result<CgroupStats> Stats() const override {
    CgroupStats s;
    uint64_t usage_us = 0;
    uint64_t user_us = 0;
    uint64_t system_us = 0;
    CR_RETURN_IF_ERROR(cgroupfs::ReadKeyedValues(
        dir_ + "/cpu.stat",
        {{"usage_usec", &usage_us}, {"user_usec", &user_us}, {"system_usec", &system_us}}));
    s.cpu_usage_ns = usage_us * 1000;
    s.cpu_user_ns = user_us * 1000;
    s.cpu_system_ns = system_us * 1000;
    CR_ASSIGN_OR_RETURN(s.memory_usage_bytes, cgroupfs::ReadNumber(dir_ + "/memory.current"));
    uint64_t inactive = 0;
    CR_RETURN_IF_ERROR(cgroupfs::ReadKeyedValues(dir_ + "/memory.stat",
                                                 {{"inactive_file", &inactive},
                                                  {"anon", &s.memory_rss_bytes},
                                                  {"file", &s.memory_cache_bytes}}));
    s.memory_working_set_bytes = s.memory_usage_bytes > inactive ? s.memory_usage_bytes - inactive : 0;
    CR_ASSIGN_OR_RETURN(s.memory_limit_bytes, cgroupfs::ReadNumber(dir_ + "/memory.max"));
    CR_ASSIGN_OR_RETURN(s.pids_current, cgroupfs::ReadNumber(dir_ + "/pids.current"));
    CR_RETURN_IF_ERROR(cgroupfs::ReadKeyedValues(
        dir_ + "/memory.events", {{"oom_kill", &s.oom_kills}, {"max", &s.memory_failcnt}}));
    return s;
  }

  Result<bool> OomKilled() const override {
    CR_ASSIGN_OR_RETURN(uint64_t kills, cgroupfs::ReadKeyedValue(dir_ + "/memory.events", "oom_kill"));
    return kills > 0;
  }

  std::string OomEventsFile() const override { return dir_ + "/memory.events"; }

  Result<void> Destroy() override { return cgroupfs::RemoveDirs(sys_, {dir_}); }

 private:
  Result<void> MakeDirs(std::vector<std::string>& created) override {
    CR_RETURN_IF_ERROR(cgroupfs::MakeChain(sys_, root_, path_, created));
    return EnableControllers();
  }

  // Every ancestor must delegate the controllers the container uses to its children.
  Result<void> EnableControllers() {
    auto available = ReadFile(root_ + "/cgroup.controllers");
    if (!available.ok()) {
      return available.error().Wrap("read cgroup v2 controllers");
    }
    std::string enable;
    for (std::string_view name : Words(*available)) {
      if (name == "cpu" || name == "cpuset" || name == "memory" || name == "pids" ||
          name == "io" || name == "hugetlb") {
        enable += (enable.empty() ? "+" : " +") + std::string(name);
      }
    }
    if (enable.empty()) {
      return Ok();
    }
    // root, root/a, root/a/b ... up to the leaf's parent.
    for (size_t end = 0; end != std::string::npos; end = path_.find('/', end + 1)) {
      CR_RETURN_IF_ERROR(
          cgroupfs::WriteControl(sys_, root_ + path_.substr(0, end), "cgroup.subtree_control", enable));
    }
    return Ok();
  }

  Result<void> Write(const std::string& file, const std::string& value) {
    return cgroupfs::WriteControl(sys_, dir_, file, value);
  }

  Result<void> ApplyCpu(const CpuResources& cpu) {
    if (cpu.shares && *cpu.shares != 0) {
      CR_RETURN_IF_ERROR(Write("cpu.weight", std::to_string(SharesToWeight(*cpu.shares))));
    }
    if (cpu.quota || cpu.period) {
      std::string quota = cpu.quota && *cpu.quota > 0 ? std::to_string(*cpu.quota) : "max";
      CR_RETURN_IF_ERROR(Write("cpu.max", quota + " " + std::to_string(cpu.period.value_or(100000))));
    }
    if (cpu.idle) {
      CR_RETURN_IF_ERROR(Write("cpu.idle", std::to_string(*cpu.idle)));
    }
    if (!cpu.cpus.empty()) {
      CR_RETURN_IF_ERROR(Write("cpuset.cpus", cpu.cpus));
    }
    if (!cpu.mems.empty()) {
      CR_RETURN_IF_ERROR(Write("cpuset.mems", cpu.mems));
    }
    return Ok();
  }

  Result<void> ApplyMemory(const MemoryResources& mem) {
    if (mem.limit) {
      CR_RETURN_IF_ERROR(Write("memory.max", Limit(*mem.limit)));
    }
    if (mem.reservation) {
      CR_RETURN_IF_ERROR(Write("memory.low", Limit(*mem.reservation)));
    }
    if (mem.swap) {
      // OCI's swap is memory+swap (v1's memsw); v2's swap.max counts swap alone.
      std::string swap = "max";
      if (*mem.swap >= 0) {
        if (!mem.limit || *mem.limit < 0 || *mem.swap < *mem.limit) {
          return Error(Code::kInvalidArgument,
                       "linux.resources.memory.swap: must be -1 or at least memory.limit");
        }
        swap = std::to_string(*mem.swap - *mem.limit);
      }
      CR_RETURN_IF_ERROR(Write("memory.swap.max", swap));
    }
    return Ok();
  }

  Result<void> Apply(const Resources& r) override {
    if (r.cpu) {
      CR_RETURN_IF_ERROR(ApplyCpu(*r.cpu));
    }
    if (r.memory) {
      CR_RETURN_IF_ERROR(ApplyMemory(*r.memory));
    }
    if (r.pids) {
      CR_RETURN_IF_ERROR(Write("pids.max", r.pids->limit > 0 ? std::to_string(r.pids->limit) : "max"));
    }
    if (r.block_io && r.block_io->weight) {
      CR_RETURN_IF_ERROR(Write("io.weight", "default " + std::to_string(BlkioToIoWeight(*r.block_io->weight))));
    }
    for (const auto& h : r.hugepage_limits) {
      CR_RETURN_IF_ERROR(Write("hugetlb." + h.page_size + ".max", std::to_string(h.limit)));
    }
    for (const auto& [file, value] : r.unified) {
      if (file.find('/') != std::string::npos) {
        return Error(Code::kInvalidArgument, "linux.resources.unified: bad key \"" + file + "\"");
      }
      CR_RETURN_IF_ERROR(Write(file, value));
    }
    if (!r.devices.empty()) {
      CR_ASSIGN_OR_RETURN(auto program, GenerateDeviceFilter(r.devices));
      CR_ASSIGN_OR_RETURN(UniqueFd dir, sys_.Open(dir_, O_RDONLY | O_DIRECTORY, 0));
      CR_RETURN_IF_ERROR(AttachDeviceFilter(dir.get(), program));
    }
    return Ok();
  }

  std::string root_;
  std::string path_;
  std::string dir_;
};

}  // namespace

std::unique_ptr<CgroupManager> NewCgroupV2Manager(Syscalls& sys, const std::string& unified_mount,
                                                  const std::string& path) {
  return std::make_unique<CgroupV2>(sys, unified_mount, path);
}

}  // namespace cricket::oci
