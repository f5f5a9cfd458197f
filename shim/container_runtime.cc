#include "shim/container_runtime.h"

namespace cricket::shim {

std::unique_ptr<ContainerRuntime> NewContainerRuntime(Syscalls& sys, std::string binary,
                                                      std::string root, std::string work_dir,
                                                      oci::CgroupInfo cgroups) {
  if (binary.empty()) {
    return NewInProcessRuntime(sys, root, std::move(cgroups));
  }
  return NewExternalRuntime(sys, std::move(binary), std::move(root), std::move(work_dir),
                            std::move(cgroups));
}

}  // namespace cricket::shim
