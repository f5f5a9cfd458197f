#include "cri/container_spec_propagation.h"

#include <climits>
#include <cstdlib>
#include <vector>

namespace cricket::cri {
namespace {

namespace v1 = ::runtime::v1;

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '3') {
      out += static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                               (field[i + 3] - '0'));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < line.size()) {
    size_t end = line.find(' ', start);
    if (end == std::string_view::npos) {
      end = line.size();
    }
    if (end > start) {
      out.push_back(line.substr(start, end - start));
    }
    start = end + 1;
  }
  return out;
}

bool Covers(const std::string& mount_point, const std::string& path) {
  if (mount_point == "/") {
    return true;
  }
  return path.compare(0, mount_point.size(), mount_point) == 0 &&
         (path.size() == mount_point.size() || path[mount_point.size()] == '/');
}

}  // namespace

Result<HostMount> FindHostMount(std::string_view mountinfo, const std::string& path) {
  HostMount best;
  bool found = false;
  size_t start = 0;
  while (start < mountinfo.size()) {
    size_t end = mountinfo.find('\n', start);
    if (end == std::string_view::npos) {
      end = mountinfo.size();
    }
    std::vector<std::string_view> f = Fields(mountinfo.substr(start, end - start));
    start = end + 1;
    // id parent major:minor root mount_point options [optional...] - fstype source super
    if (f.size() < 7) {
      continue;
    }
    std::string mount_point = Unescape(f[4]);
    if (!Covers(mount_point, path) || (found && mount_point.size() < best.mount_point.size())) {
      continue;
    }
    HostMount m;
    m.mount_point = std::move(mount_point);
    for (size_t i = 6; i < f.size() && f[i] != "-"; ++i) {
      m.shared = m.shared || f[i].starts_with("shared:");
      m.slave = m.slave || f[i].starts_with("master:");
    }
    best = std::move(m);
    found = true;
  }
  if (!found) {
    return Error(Code::kNotFound, "no mount holds " + path);
  }
  return best;
}

Result<void> CheckSourcePropagation(const std::string& field, const std::string& host_path,
                                    v1::MountPropagation propagation, std::string_view mountinfo) {
  if (propagation != v1::PROPAGATION_BIDIRECTIONAL &&
      propagation != v1::PROPAGATION_HOST_TO_CONTAINER) {
    return Ok();
  }
  char resolved[PATH_MAX];
  std::string path = ::realpath(host_path.c_str(), resolved) != nullptr ? resolved : host_path;
  CR_ASSIGN_OR_RETURN(HostMount mount, FindHostMount(mountinfo, path));
  const bool bidirectional = propagation == v1::PROPAGATION_BIDIRECTIONAL;
  if (mount.shared || (!bidirectional && mount.slave)) {
    return Ok();
  }
  return Error(Code::kFailedPrecondition,
               field + ".host_path \"" + host_path + "\" is on mount \"" + mount.mount_point +
                   "\", which is not " + (bidirectional ? "shared" : "shared or a slave") + ": " +
                   (bidirectional ? "BIDIRECTIONAL" : "HOST_TO_CONTAINER") +
                   " propagation needs it (mount --make-rshared " + mount.mount_point + ")");
}

}  // namespace cricket::cri
