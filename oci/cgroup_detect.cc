#include "oci/cgroup_detect.h"

#include <algorithm>

#include "common/files.h"
#include "common/text.h"

namespace cricket::oci {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo octal.
std::string Unescape(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int value = 0;
      bool octal = true;
      for (size_t j = 1; j <= 3; ++j) {
        char c = field[i + j];
        if (c < '0' || c > '7') {
          octal = false;
          break;
        }
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out += static_cast<char>(value);
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

// Controllers of a v1 cgroup mount are the super options that name one ("rw,memory" -> memory;
// "name=systemd" names a hierarchy without a controller and is skipped).
std::vector<std::string> ControllersFromOptions(std::string_view options) {
  std::vector<std::string> out;
  for (auto& option : Split(options, ',')) {
    if (option.empty() || option == "rw" || option == "ro" || option.find('=') != std::string::npos ||
        option == "noprefix" || option == "clone_children" || option == "xattr" ||
        option == "cpuset_v2_mode" || option == "favordynmods") {
      continue;
    }
    out.push_back(option);
  }
  return out;
}

}  // namespace

std::string_view CgroupModeName(CgroupMode mode) {
  switch (mode) {
    case CgroupMode::kV1: return "v1";
    case CgroupMode::kHybrid: return "hybrid";
    case CgroupMode::kV2: return "v2";
  }
  return "v1";
}

Result<CgroupInfo> ParseCgroupMounts(std::string_view mountinfo) {
  CgroupInfo info;
  for (const std::string& line : Split(mountinfo, '\n')) {
    // "<id> <parent> <maj:min> <root> <mount point> <options> [optional...] - <fstype> <source> <super>"
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) {
      continue;
    }
    auto left = Split(std::string_view(line).substr(0, dash), ' ');
    auto right = Split(std::string_view(line).substr(dash + 3), ' ');
    if (left.size() < 5 || right.size() < 3) {
      continue;
    }
    const std::string mount_point = Unescape(left[4]);
    if (right[0] == "cgroup2") {
      info.unified_mount = mount_point;
    } else if (right[0] == "cgroup") {
      auto controllers = ControllersFromOptions(right[2]);
      if (!controllers.empty()) {
        info.v1.push_back({mount_point, std::move(controllers)});
      }
    }
  }
  if (info.unified_mount.empty() && info.v1.empty()) {
    return Error(Code::kFailedPrecondition, "no cgroup filesystem is mounted");
  }
  std::sort(info.v1.begin(), info.v1.end(),
            [](const auto& a, const auto& b) { return a.mount_point < b.mount_point; });
  if (info.v1.empty()) {
    info.mode = CgroupMode::kV2;
  } else {
    info.mode = info.unified_mount.empty() ? CgroupMode::kV1 : CgroupMode::kHybrid;
  }
  return info;
}

Result<CgroupInfo> DetectCgroups() {
  CR_ASSIGN_OR_RETURN(std::string text, ReadFile("/proc/self/mountinfo"));
  return ParseCgroupMounts(text);
}

}  // namespace cricket::oci
