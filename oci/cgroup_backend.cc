#include "oci/cgroup_backend.h"

#include <chrono>
#include <thread>

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

Result<void> CgroupBackend::Freeze(bool frozen) {
  CR_RETURN_IF_ERROR(WriteFreezeState(frozen));
  const auto deadline = std::chrono::steady_clock::now() + kFreezeWait;
  for (;;) {
    CR_ASSIGN_OR_RETURN(bool now, Frozen());
    if (now == frozen) {
      return Ok();
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error(Code::kDeadlineExceeded, "cgroup " + path() + " did not " +
                                                (frozen ? "freeze" : "thaw") + " within " +
                                                std::to_string(kFreezeWait.count()) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace cricket::oci
