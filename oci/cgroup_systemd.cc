#include "oci/cgroup_systemd.h"

#include <charconv>
#include <string_view>

namespace cricket::oci {
namespace {

constexpr std::string_view kSliceSuffix = ".slice";
constexpr std::string_view kScopeSuffix = ".scope";
constexpr uint64_t kDefaultCpuPeriodUs = 100000;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view Basename(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

Result<uint64_t> ParseU64(std::string_view s, const std::string& field) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return Error(Code::kInvalidArgument, field + ": \"" + std::string(s) + "\" is not a number");
  }
  return v;
}

// A unit name systemd accepts for our purposes: no path separators, no ":" and printable.
bool PlainUnitName(std::string_view name) {
  if (name.empty() || name.size() > 255) {
    return false;
  }
  for (char c : name) {
    if (c == '/' || c == ':' || c <= ' ' || c == 0x7f) {
      return false;
    }
  }
  return true;
}

// systemd rounds CPUQuota to 10 ms per second: round up, as runc does, so a container never
// gets less CPU than asked for.
uint64_t QuotaPerSecondUs(int64_t quota_us, uint64_t period_us) {
  uint64_t per_sec = static_cast<uint64_t>(quota_us) * 1000000 / period_us;
  if (per_sec % 10000 != 0) {
    per_sec = (per_sec / 10000 + 1) * 10000;
  }
  return per_sec;
}

Result<void> AddCpu(const CpuResources& cpu, CgroupMode mode, std::vector<UnitProperty>& out) {
  if (cpu.shares && *cpu.shares != 0) {
    if (mode == CgroupMode::kV2) {
      out.push_back({"CPUWeight", CpuSharesToWeight(*cpu.shares)});
    } else {
      out.push_back({"CPUShares", *cpu.shares});
    }
  }
  uint64_t period = cpu.period && *cpu.period != 0 ? *cpu.period : kDefaultCpuPeriodUs;
  if (cpu.period && *cpu.period != 0) {
    out.push_back({"CPUQuotaPeriodUSec", *cpu.period});
  }
  if (cpu.quota && *cpu.quota != 0) {
    out.push_back({"CPUQuotaPerSecUSec",
                   *cpu.quota < 0 ? kUnitInfinity : QuotaPerSecondUs(*cpu.quota, period)});
  }
  // systemd 252 has AllowedCPUs/AllowedMemoryNodes on v2 only; on v1 the cpuset files are
  // written by the cgroupfs backend.
  if (mode == CgroupMode::kV2 && !cpu.cpus.empty()) {
    CR_ASSIGN_OR_RETURN(auto mask, CpuListMask(cpu.cpus, "linux.resources.cpu.cpus"));
    out.push_back({"AllowedCPUs", std::move(mask)});
  }
  if (mode == CgroupMode::kV2 && !cpu.mems.empty()) {
    CR_ASSIGN_OR_RETURN(auto mask, CpuListMask(cpu.mems, "linux.resources.cpu.mems"));
    out.push_back({"AllowedMemoryNodes", std::move(mask)});
  }
  return Ok();
}

Result<void> AddMemory(const Resources& r, CgroupMode mode, std::vector<UnitProperty>& out) {
  if (r.memory && r.memory->limit && *r.memory->limit != 0) {
    uint64_t limit = *r.memory->limit < 0 ? kUnitInfinity : static_cast<uint64_t>(*r.memory->limit);
    out.push_back({mode == CgroupMode::kV2 ? "MemoryMax" : "MemoryLimit", limit});
  }
  if (auto high = r.unified.find("memory.high");
      high != r.unified.end() && mode == CgroupMode::kV2) {
    uint64_t value = kUnitInfinity;
    if (high->second != "max") {
      CR_ASSIGN_OR_RETURN(value, ParseU64(high->second, "linux.resources.unified.memory.high"));
    }
    out.push_back({"MemoryHigh", value});
  }
  return Ok();
}

}  // namespace

uint64_t CpuSharesToWeight(uint64_t shares) {
  if (shares < 2) {
    shares = 2;
  }
  if (shares > 262144) {
    shares = 262144;
  }
  return 1 + ((shares - 2) * 9999) / 262142;
}

Result<std::string> ExpandSlice(const std::string& slice) {
  auto invalid = [&](const std::string& why) {
    return Error(Code::kInvalidArgument, "slice \"" + slice + "\": " + why);
  };
  if (!EndsWith(slice, kSliceSuffix) || slice.size() == kSliceSuffix.size()) {
    return invalid("not a slice name (want <name>.slice)");
  }
  if (slice == "-.slice") {
    return std::string("/");
  }
  if (slice.find('/') != std::string::npos || !PlainUnitName(slice)) {
    return invalid("must not contain \"/\", \":\" or blanks");
  }
  std::string_view stem(slice.data(), slice.size() - kSliceSuffix.size());
  std::string path;
  std::string prefix;
  size_t start = 0;
  while (start <= stem.size()) {
    size_t dash = stem.find('-', start);
    std::string_view component =
        stem.substr(start, dash == std::string_view::npos ? std::string_view::npos : dash - start);
    if (component.empty()) {
      return invalid("empty component between dashes");
    }
    prefix += prefix.empty() ? std::string(component) : "-" + std::string(component);
    path += "/" + prefix + std::string(kSliceSuffix);
    if (dash == std::string_view::npos) {
      break;
    }
    start = dash + 1;
  }
  return path;
}

Result<SystemdCgroup> ParseSystemdCgroupsPath(const std::string& cgroups_path,
                                              const std::string& id) {
  std::string form = cgroups_path.empty() ? ":cricket:" + id : cgroups_path;
  auto invalid = [&](const std::string& why) {
    return Error(Code::kInvalidArgument, "linux.cgroupsPath: \"" + form + "\": " + why);
  };
  size_t first = form.find(':');
  size_t second = first == std::string::npos ? first : form.find(':', first + 1);
  if (second == std::string::npos || form.find(':', second + 1) != std::string::npos) {
    return invalid("the systemd driver wants slice:prefix:name");
  }
  SystemdCgroup out;
  out.slice = form.substr(0, first);
  std::string prefix = form.substr(first + 1, second - first - 1);
  std::string name = form.substr(second + 1);
  if (out.slice.empty()) {
    out.slice = "system.slice";
  }
  if (name.empty()) {
    return invalid("empty name");
  }
  if (EndsWith(name, kSliceSuffix)) {
    out.unit = name;  // runc: a name that is a slice is used as it is, without the prefix
  } else {
    out.unit = (prefix.empty() ? name : prefix + "-" + name) + std::string(kScopeSuffix);
  }
  if (!PlainUnitName(out.unit)) {
    return invalid("unit name \"" + out.unit + "\" must not contain \"/\" or blanks");
  }
  auto parent = ExpandSlice(out.slice);
  if (!parent.ok()) {
    return invalid(parent.error().message());
  }
  if (EndsWith(out.unit, kSliceSuffix)) {
    // A slice's path is its own expansion; it must be below the given slice.
    CR_ASSIGN_OR_RETURN(out.path, ExpandSlice(out.unit));
    return out;
  }
  out.path = (*parent == "/" ? "" : *parent) + "/" + out.unit;
  return out;
}

Result<SystemdCgroup> ContainerScope(const std::string& slice, const std::string& id) {
  CR_RETURN_IF_ERROR(ExpandSlice(slice));  // a slice name, never the default of an empty one
  return ParseSystemdCgroupsPath(slice + ":cricket:" + id, id);
}

Result<SystemdCgroup> ScopeOfPath(const std::string& path) {
  auto invalid = [&] {
    return Error(Code::kInvalidArgument, "cgroup path \"" + path + "\" is not a systemd scope");
  };
  std::string_view unit = Basename(path);
  if (!EndsWith(unit, kScopeSuffix) || path.empty() || path[0] != '/') {
    return invalid();
  }
  std::string parent = path.substr(0, path.size() - unit.size() - 1);
  SystemdCgroup out;
  out.unit = std::string(unit);
  out.slice = parent.empty() ? "-.slice" : std::string(Basename(parent));
  auto expanded = ExpandSlice(out.slice);
  if (!expanded.ok() || *expanded != (parent.empty() ? "/" : parent) || !PlainUnitName(out.unit)) {
    return invalid();
  }
  out.path = path;
  return out;
}

Result<std::vector<uint8_t>> CpuListMask(const std::string& list, const std::string& field) {
  constexpr uint64_t kMaxCpu = 8191;  // beyond any kernel's NR_CPUS default; bounds the mask
  std::vector<uint8_t> mask;
  std::string_view rest(list);
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t dash = item.find('-');
    CR_ASSIGN_OR_RETURN(uint64_t lo, ParseU64(item.substr(0, dash), field));
    uint64_t hi = lo;
    if (dash != std::string_view::npos) {
      CR_ASSIGN_OR_RETURN(hi, ParseU64(item.substr(dash + 1), field));
    }
    if (hi < lo || hi > kMaxCpu) {
      return Error(Code::kInvalidArgument, field + ": bad range \"" + std::string(item) + "\"");
    }
    if (mask.size() < hi / 8 + 1) {
      mask.resize(hi / 8 + 1, 0);
    }
    for (uint64_t cpu = lo; cpu <= hi; ++cpu) {
      mask[cpu / 8] = static_cast<uint8_t>(mask[cpu / 8] | (1u << (cpu % 8)));
    }
  }
  if (mask.empty()) {
    return Error(Code::kInvalidArgument, field + ": empty list");
  }
  return mask;
}

Result<std::vector<UnitProperty>> ResourceProperties(const Resources& resources, CgroupMode mode) {
  std::vector<UnitProperty> out;
  if (resources.cpu) {
    CR_RETURN_IF_ERROR(AddCpu(*resources.cpu, mode, out));
  }
  CR_RETURN_IF_ERROR(AddMemory(resources, mode, out));
  if (resources.pids) {
    int64_t limit = resources.pids->limit;
    out.push_back({"TasksMax", limit > 0 ? static_cast<uint64_t>(limit) : kUnitInfinity});
  } else if (auto max = resources.unified.find("pids.max");
             max != resources.unified.end() && mode == CgroupMode::kV2) {
    // CRI has no pids field: kubelet's container pids limit comes as unified pids.max. Without
    // the property systemd would put its DefaultTasksMax back on its next write of the unit.
    uint64_t value = kUnitInfinity;
    if (max->second != "max") {
      CR_ASSIGN_OR_RETURN(value, ParseU64(max->second, "linux.resources.unified.pids.max"));
    }
    out.push_back({"TasksMax", value});
  }
  if (resources.block_io && resources.block_io->weight && *resources.block_io->weight != 0) {
    uint64_t weight = *resources.block_io->weight;
    if (mode == CgroupMode::kV2) {
      // blkio weight 10..1000 -> io weight 1..10000 (runc's conversion).
      weight = weight < 10 ? 10 : (weight > 1000 ? 1000 : weight);
      out.push_back({"IOWeight", 1 + (weight - 10) * 9999 / 990});
    } else {
      out.push_back({"BlockIOWeight", weight});
    }
  }
  return out;
}

Result<std::vector<UnitProperty>> ScopeProperties(const SystemdCgroup& scope,
                                                  const std::vector<uint32_t>& pids,
                                                  const Resources* resources, CgroupMode mode) {
  std::vector<UnitProperty> out = {
      {"Description", "cricket container " + scope.unit},
      {"Slice", scope.slice},
      // The container's cgroup is ours below the scope (kubelet and runc expect it).
      {"Delegate", true},
      // No implicit Conflicts=/Before=shutdown.target: the container's lifetime is cricketd's.
      {"DefaultDependencies", false},
      {"PIDs", pids},
      {"MemoryAccounting", true},
      {"CPUAccounting", true},
      {"TasksAccounting", true},
  };
  if (mode == CgroupMode::kV2) {
    out.push_back({"IOAccounting", true});
  } else {
    out.push_back({"BlockIOAccounting", true});
  }
  if (resources != nullptr) {
    CR_ASSIGN_OR_RETURN(auto limits, ResourceProperties(*resources, mode));
    out.insert(out.end(), limits.begin(), limits.end());
  }
  return out;
}

}  // namespace cricket::oci
