#include "storage/volumes/coordination/coordinator.h"

#include <cctype>

#include "storage/volumes/coordination/etcd_coordinator.h"
#include "storage/volumes/coordination/local_coordinator.h"

namespace cricket::storage {

Result<std::unique_ptr<VolumeCoordinator>> MakeCoordinator(const CoordinatorOptions& options) {
  if (options.backend == "local") {
    return MakeLocalCoordinator(options);
  }
  if (options.backend == "etcd") {
    return MakeEtcdCoordinator(options);
  }
  return Error(Code::kInvalidArgument,
               "unknown volume coordination backend " + options.backend + " (want local or etcd)");
}

Result<void> ValidateVolumeName(const std::string& volume) {
  bool ok = !volume.empty() && volume.size() <= 128 && volume.front() != '.';
  for (char c : volume) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '_' && c != '-') {
      ok = false;
    }
  }
  if (!ok) {
    return Error(
        Code::kInvalidArgument,
        "volume name \"" + volume + "\" must be 1-128 of [A-Za-z0-9._-] and not start with '.'");
  }
  return Ok();
}

Result<void> ValidateNodeName(const std::string& node) {
  bool ok = !node.empty() && node.size() <= 253;
  for (char c : node) {
    if (std::isgraph(static_cast<unsigned char>(c)) == 0 || c == '/') {
      ok = false;
    }
  }
  if (!ok) {
    return Error(Code::kInvalidArgument,
                 "node name \"" + node + "\" must be 1-253 printable characters without '/'");
  }
  return Ok();
}

}  // namespace cricket::storage
