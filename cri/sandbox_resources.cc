#include "cri/sandbox_resources.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <string>

#include "oci/cgroup_systemd.h"

namespace cricket::cri {
namespace {

namespace v1 = ::runtime::v1;

// The kernel's bounds (kernel/sched/core.c): cfs period 1 ms..1 s, quota at least 1 ms; and
// cpu.shares 2..262144 (MIN_SHARES, MAX_SHARES).
constexpr int64_t kMinCpuPeriodUs = 1000;
constexpr int64_t kMaxCpuPeriodUs = 1000000;
constexpr int64_t kMinCpuQuotaUs = 1000;
constexpr int64_t kMinCpuShares = 2;
constexpr int64_t kMaxCpuShares = 262144;

Error Invalid(std::string_view prefix, std::string_view field, const std::string& why) {
  return Error(Code::kInvalidArgument, std::string(prefix) + "." + std::string(field) + ": " + why);
}

// "2MB", "1GB", "64KB": what kubelet sends and the hugetlb.<size>.* files are named.
bool ValidPageSize(const std::string& size) {
  if (size.size() < 3 || !size.ends_with("B")) {
    return false;
  }
  const char unit = size[size.size() - 2];
  if (unit != 'K' && unit != 'M' && unit != 'G') {
    return false;
  }
  return std::all_of(size.begin(), size.end() - 2, [](char c) { return std::isdigit(c) != 0; });
}

// "<controller>.<file>": a file of the pod's own cgroup directory, never a path out of it.
bool ValidUnifiedKey(const std::string& key) {
  auto dot = key.find('.');
  return dot != std::string::npos && dot > 0 && dot + 1 < key.size() &&
         key.find('/') == std::string::npos && key.find("..") == std::string::npos;
}

Result<void> ValidateCpu(const v1::LinuxContainerResources& r, std::string_view p) {
  if (r.cpu_period() != 0 &&
      (r.cpu_period() < kMinCpuPeriodUs || r.cpu_period() > kMaxCpuPeriodUs)) {
    return Invalid(p, "cpu_period",
                   "must be 0 or 1000..1000000 (us), got " + std::to_string(r.cpu_period()));
  }
  if (r.cpu_quota() != 0 && r.cpu_quota() != -1 && r.cpu_quota() < kMinCpuQuotaUs) {
    return Invalid(p, "cpu_quota",
                   "must be 0, -1 or at least 1000 (us), got " + std::to_string(r.cpu_quota()));
  }
  if (r.cpu_shares() != 0 && (r.cpu_shares() < kMinCpuShares || r.cpu_shares() > kMaxCpuShares)) {
    return Invalid(p, "cpu_shares",
                   "must be 0 or 2..262144, got " + std::to_string(r.cpu_shares()));
  }
  if (!r.cpuset_cpus().empty()) {
    CR_RETURN_IF_ERROR(oci::CpuListMask(r.cpuset_cpus(), std::string(p) + ".cpuset_cpus"));
  }
  if (!r.cpuset_mems().empty()) {
    CR_RETURN_IF_ERROR(oci::CpuListMask(r.cpuset_mems(), std::string(p) + ".cpuset_mems"));
  }
  return Ok();
}

Result<void> ValidateMemory(const v1::LinuxContainerResources& r, std::string_view p) {
  if (r.memory_limit_in_bytes() < -1) {
    return Invalid(p, "memory_limit_in_bytes",
                   "must be -1, 0 or positive, got " + std::to_string(r.memory_limit_in_bytes()));
  }
  const int64_t swap = r.memory_swap_limit_in_bytes();
  if (swap < -1) {
    return Invalid(p, "memory_swap_limit_in_bytes",
                   "must be -1, 0 or positive, got " + std::to_string(swap));
  }
  // CRI's swap limit is memory plus swap (v1's memsw), so it cannot be below the memory limit.
  if (swap > 0 && r.memory_limit_in_bytes() > 0 && swap < r.memory_limit_in_bytes()) {
    return Invalid(p, "memory_swap_limit_in_bytes",
                   "must be at least memory_limit_in_bytes (" +
                       std::to_string(r.memory_limit_in_bytes()) + "), got " +
                       std::to_string(swap));
  }
  return Ok();
}

}  // namespace

Result<void> ValidatePodResources(const v1::LinuxContainerResources& r,
                                  std::string_view field_prefix) {
  CR_RETURN_IF_ERROR(ValidateCpu(r, field_prefix));
  CR_RETURN_IF_ERROR(ValidateMemory(r, field_prefix));
  if (r.oom_score_adj() < -1000 || r.oom_score_adj() > 1000) {
    return Invalid(field_prefix, "oom_score_adj",
                   "must be -1000..1000, got " + std::to_string(r.oom_score_adj()));
  }
  for (const auto& h : r.hugepage_limits()) {
    if (!ValidPageSize(h.page_size())) {
      return Invalid(field_prefix, "hugepage_limits.page_size",
                     "\"" + h.page_size() + "\" is not a size like 2MB or 1GB");
    }
  }
  for (const auto& [key, value] : r.unified()) {
    if (!ValidUnifiedKey(key)) {
      return Invalid(field_prefix, "unified",
                     "\"" + key + "\" is not a cgroup file name like memory.high");
    }
  }
  return Ok();
}

Result<oci::Resources> PodCgroupResources(const v1::LinuxContainerResources& overhead,
                                          const v1::LinuxContainerResources& resources) {
  CR_RETURN_IF_ERROR(ValidatePodResources(overhead, "overhead"));
  CR_RETURN_IF_ERROR(ValidatePodResources(resources, "resources"));
  const auto& o = overhead;
  const auto& r = resources;
  if (o.cpu_period() != 0 && r.cpu_period() != 0 && o.cpu_period() != r.cpu_period()) {
    return Invalid("overhead", "cpu_period",
                   "differs from resources.cpu_period (" + std::to_string(r.cpu_period()) +
                       "): a cgroup has one period");
  }
  auto positive = [](int64_t v) { return std::max<int64_t>(v, 0); };
  oci::Resources out;

  oci::CpuResources& cpu = out.cpu.emplace();
  if (int64_t shares = positive(r.cpu_shares()) + positive(o.cpu_shares()); shares > 0) {
    cpu.shares = static_cast<uint64_t>(shares);
  }
  if (int64_t period = r.cpu_period() != 0 ? r.cpu_period() : o.cpu_period(); period > 0) {
    cpu.period = static_cast<uint64_t>(period);
  }
  cpu.quota = r.cpu_quota() > 0 ? r.cpu_quota() + positive(o.cpu_quota()) : -1;
  cpu.cpus = !r.cpuset_cpus().empty() ? r.cpuset_cpus() : o.cpuset_cpus();
  cpu.mems = !r.cpuset_mems().empty() ? r.cpuset_mems() : o.cpuset_mems();

  oci::MemoryResources& memory = out.memory.emplace();
  memory.limit = r.memory_limit_in_bytes() > 0
                     ? r.memory_limit_in_bytes() + positive(o.memory_limit_in_bytes())
                     : -1;
  if (r.memory_swap_limit_in_bytes() == -1 ||
      (r.memory_swap_limit_in_bytes() > 0 && *memory.limit < 0)) {
    memory.swap = -1;
  } else if (r.memory_swap_limit_in_bytes() > 0) {
    // The overhead's memory counts in memory+swap too.
    int64_t extra = o.memory_swap_limit_in_bytes() > 0 ? o.memory_swap_limit_in_bytes()
                                                       : positive(o.memory_limit_in_bytes());
    memory.swap = r.memory_swap_limit_in_bytes() + extra;
  }

  std::map<std::string, uint64_t> hugepages;
  for (const auto* part : {&o, &r}) {
    for (const auto& h : part->hugepage_limits()) {
      hugepages[h.page_size()] += h.limit();
    }
  }
  for (const auto& [size, limit] : hugepages) {
    out.hugepage_limits.push_back({.page_size = size, .limit = limit});
  }
  for (const auto* part : {&o, &r}) {
    for (const auto& [key, value] : part->unified()) {
      out.unified[key] = value;
    }
  }
  return out;
}

}  // namespace cricket::cri
