#include "oci/cgroup_backend.h"

#include "common/cleanup.h"
#include "oci/cgroup_fs.h"

namespace cricket::oci {

Result<void> CgroupBackend::Create(const Resources* resources) {
  std::vector<std::string> created;
  auto undo = Cleanup([&] { (void)cgroupfs::RemoveDirs(sys_, created); });
  CR_RETURN_IF_ERROR(MakeDirs(created));
  if (resources != nullptr) {
    CR_RETURN_IF_ERROR(Apply(*resources));
  }
  undo.Dismiss();
  return Ok();
}

Result<void> CgroupBackend::Update(const Resources& resources) {
  // Device rules stay as Create wrote them (the contract in cgroup_manager.h).
  Resources without_devices = resources;
  without_devices.devices.clear();
  return Apply(without_devices);
}

}  // namespace cricket::oci
