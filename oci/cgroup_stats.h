#pragma once

// CPU and memory usage of a container's cgroup, read from cgroupfs (v1: cpuacct + memory
// hierarchies; v2: the unified tree). Only reads files below the mount points in CgroupInfo,
// so tests point it at a temp dir.

#include <cstdint>
#include <string>

#include "common/result.h"
#include "oci/cgroup_detect.h"

namespace cricket::oci {

struct CgroupStats {
  uint64_t cpu_usage_ns = 0;     // cumulative CPU time of all tasks
  uint64_t memory_usage_bytes = 0;
  uint64_t memory_working_set_bytes = 0;  // usage minus inactive file pages, as kubelet counts
  uint64_t memory_rss_bytes = 0;
  uint64_t page_faults = 0;
  uint64_t major_page_faults = 0;
};

// kNotFound when the cgroup does not exist (the container is gone).
Result<CgroupStats> ReadCgroupStats(const CgroupInfo& info, const std::string& cgroup_path);

}  // namespace cricket::oci
