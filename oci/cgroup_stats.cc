#include "oci/cgroup_stats.h"

#include <charconv>
#include <map>
#include <sstream>

#include "common/files.h"

namespace cricket::oci {
namespace {

// "key value" lines (memory.stat, cpu.stat).
std::map<std::string, uint64_t> FlatKeyed(const std::string& text) {
  std::map<std::string, uint64_t> out;
  std::istringstream lines(text);
  std::string key;
  uint64_t value = 0;
  while (lines >> key >> value) {
    out[key] = value;
  }
  return out;
}

Result<uint64_t> ReadNumber(const std::string& path) {
  CR_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::string V1Mount(const CgroupInfo& info, const std::string& controller) {
  for (const auto& h : info.v1) {
    for (const auto& c : h.controllers) {
      if (c == controller) {
        return h.mount_point;
      }
    }
  }
  return {};
}

uint64_t Get(const std::map<std::string, uint64_t>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

Result<CgroupStats> ReadV1(const CgroupInfo& info, const std::string& path) {
  CgroupStats s;
  const std::string cpuacct = V1Mount(info, "cpuacct");
  const std::string memory = V1Mount(info, "memory");
  if (!cpuacct.empty()) {
    CR_ASSIGN_OR_RETURN(s.cpu_usage_ns, ReadNumber(cpuacct + path + "/cpuacct.usage"));
  }
  if (!memory.empty()) {
    CR_ASSIGN_OR_RETURN(s.memory_usage_bytes, ReadNumber(memory + path + "/memory.usage_in_bytes"));
    CR_ASSIGN_OR_RETURN(std::string stat, ReadFile(memory + path + "/memory.stat"));
    auto m = FlatKeyed(stat);
    uint64_t inactive = Get(m, "total_inactive_file");
    s.memory_working_set_bytes = s.memory_usage_bytes > inactive ? s.memory_usage_bytes - inactive : 0;
    s.memory_rss_bytes = Get(m, "total_rss");
    s.page_faults = Get(m, "total_pgfault");
    s.major_page_faults = Get(m, "total_pgmajfault");
  }
  return s;
}

Result<CgroupStats> ReadV2(const CgroupInfo& info, const std::string& path) {
  CgroupStats s;
  const std::string dir = info.unified_mount + path;
  CR_ASSIGN_OR_RETURN(std::string cpu, ReadFile(dir + "/cpu.stat"));
  s.cpu_usage_ns = Get(FlatKeyed(cpu), "usage_usec") * 1000;
  CR_ASSIGN_OR_RETURN(s.memory_usage_bytes, ReadNumber(dir + "/memory.current"));
  CR_ASSIGN_OR_RETURN(std::string stat, ReadFile(dir + "/memory.stat"));
  auto m = FlatKeyed(stat);
  uint64_t inactive = Get(m, "inactive_file");
  s.memory_working_set_bytes = s.memory_usage_bytes > inactive ? s.memory_usage_bytes - inactive : 0;
  s.memory_rss_bytes = Get(m, "anon");
  s.page_faults = Get(m, "pgfault");
  s.major_page_faults = Get(m, "pgmajfault");
  return s;
}

}  // namespace

Result<CgroupStats> ReadCgroupStats(const CgroupInfo& info, const std::string& cgroup_path) {
  return info.mode == CgroupMode::kV2 ? ReadV2(info, cgroup_path) : ReadV1(info, cgroup_path);
}

}  // namespace cricket::oci
