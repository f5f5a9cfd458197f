#include "cri/portable_mounts.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include "storage/volumes/coordination/coordinator.h"

namespace cricket::cri {
namespace {

namespace fs = std::filesystem;

bool HasDotDot(const fs::path& path) {
  return std::any_of(path.begin(), path.end(), [](const fs::path& c) { return c == ".."; });
}

// `path` relative to `root` when it lies strictly below it ("" otherwise). Both lexical.
fs::path Below(const fs::path& path, const fs::path& root) {
  auto [r, p] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  if (r != root.end() || p == path.end()) {
    return {};
  }
  fs::path rel;
  for (; p != path.end(); ++p) {
    if (!p->empty()) {
      rel /= *p;
    }
  }
  return rel;
}

Result<std::set<std::string>> Declared(const runtime::v1::PodSandboxConfig& pod) {
  std::set<std::string> names;
  auto it = pod.annotations().find(kPortableVolumesAnnotation);
  if (it == pod.annotations().end()) {
    return names;
  }
  std::stringstream in(it->second);
  std::string name;
  while (std::getline(in, name, ',')) {
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    if (auto valid = storage::ValidateVolumeName(name); !valid.ok()) {
      return valid.error().Wrap(std::string("annotation ") + kPortableVolumesAnnotation);
    }
    names.insert(name);
  }
  return names;
}

}  // namespace

Result<std::vector<PortableMount>> FindPortableMounts(const runtime::v1::ContainerConfig& config,
                                                      const runtime::v1::PodSandboxConfig& pod,
                                                      const std::string& portable_root) {
  CR_ASSIGN_OR_RETURN(std::set<std::string> declared, Declared(pod));
  const fs::path root = fs::path(portable_root).lexically_normal();
  std::error_code ec;
  const fs::path real_root = fs::weakly_canonical(root, ec);
  std::vector<PortableMount> out;
  for (int i = 0; i < config.mounts_size(); ++i) {
    const std::string& host_path = config.mounts(i).host_path();
    const std::string field = "mounts[" + std::to_string(i) + "].host_path \"" + host_path + "\"";
    if (host_path.empty() || host_path.front() != '/') {
      continue;  // the spec builder names what is wrong with it
    }
    const fs::path raw(host_path);
    const fs::path normal = raw.lexically_normal();
    const bool touches_root = !Below(raw, root).empty() || !Below(normal, root).empty() ||
                              normal == root || raw == root;
    if (touches_root && HasDotDot(raw)) {
      return Error(Code::kInvalidArgument, field + " uses \"..\" around the portable root");
    }
    if (normal == root || (normal / "") == (root / "")) {
      return Error(Code::kInvalidArgument, field + " is the portable root, not a volume in it");
    }
    fs::path rel = Below(normal, root);
    if (rel.empty()) {
      // Outside the root by its text; it must not reach the root through a symlink either.
      fs::path real = fs::weakly_canonical(normal, ec);
      if (!ec && !real_root.empty() && (real == real_root || !Below(real, real_root).empty())) {
        return Error(Code::kInvalidArgument,
                     field + " reaches the portable root " + portable_root + " through a symlink");
      }
      continue;
    }
    if (std::distance(rel.begin(), rel.end()) != 1) {
      return Error(Code::kInvalidArgument,
                   field + ": only <portable_root>/<volume> can be mounted, not a path below it");
    }
    std::string volume = rel.string();
    if (auto valid = storage::ValidateVolumeName(volume); !valid.ok()) {
      return valid.error().Wrap(field);
    }
    if (!declared.empty() && !declared.contains(volume)) {
      return Error(Code::kInvalidArgument, field + ": volume " + volume + " is not listed in " +
                                               kPortableVolumesAnnotation);
    }
    out.push_back({i, volume});
  }
  return out;
}

}  // namespace cricket::cri
