#include "cri/runtime_handlers.h"

namespace cricket::cri {

Result<RuntimeTarget> RuntimeFor(const Config& config, const std::string& handler) {
  if (handler.empty()) {
    return RuntimeTarget{"", config.state + "/runtime"};
  }
  auto it = config.runtimes.find(handler);
  if (it == config.runtimes.end()) {
    return Error(Code::kInvalidArgument,
                 "runtime_handler \"" + handler + "\" is not configured ([runtimes.\"" + handler +
                     "\"] in config.toml)");
  }
  RuntimeTarget target;
  target.binary = it->second.path;
  target.root = !it->second.root.empty() ? it->second.root
                : target.binary.empty()  ? config.state + "/runtime"
                                         : config.state + "/runtimes/" + handler;
  return target;
}

Result<std::unique_ptr<shim::ContainerRuntime>> ContainerRuntimeFor(const Config& config,
                                                                    const std::string& handler,
                                                                    Syscalls& sys,
                                                                    oci::CgroupInfo cgroups,
                                                                    const std::string& work_dir) {
  CR_ASSIGN_OR_RETURN(RuntimeTarget target, RuntimeFor(config, handler));
  return shim::NewContainerRuntime(sys, std::move(target.binary), std::move(target.root), work_dir,
                                   std::move(cgroups));
}

}  // namespace cricket::cri
