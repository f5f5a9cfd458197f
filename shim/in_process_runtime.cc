// The shim's default backend: Cricket's own runtime library, in the shim's process.

#include "oci/runtime.h"
#include "shim/container_runtime.h"

namespace cricket::shim {
namespace {

class InProcessRuntime final : public ContainerRuntime {
 public:
  InProcessRuntime(Syscalls& sys, const std::string& root, oci::CgroupInfo cgroups)
      : sys_(sys), cgroups_(cgroups), runtime_(sys, root, std::move(cgroups)) {}

  Result<pid_t> Create(const std::string& id, const std::string& bundle,
                       const std::string& console_socket) override {
    oci::CreateOptions options;
    options.bundle = bundle;
    options.console_socket = console_socket;
    CR_ASSIGN_OR_RETURN(oci::ContainerState state, runtime_.Create(id, options));
    return state.pid;
  }
  Result<void> Start(const std::string& id) override { return runtime_.Start(id); }
  Result<oci::ContainerState> State(const std::string& id) override { return runtime_.State(id); }
  Result<std::unique_ptr<oci::CgroupManager>> Cgroup(const std::string& id) override {
    CR_ASSIGN_OR_RETURN(oci::ContainerState state, runtime_.State(id));
    return oci::NewCgroupManager(sys_, cgroups_, state.cgroup_path);
  }
  Result<void> Kill(const std::string& id, int signal, bool all) override {
    return runtime_.Kill(id, signal, all);
  }
  Result<pid_t> Exec(const std::string& id, const oci::Process& process,
                     const std::string& console_socket) override {
    oci::ExecOptions options;
    options.console_socket = console_socket;
    return runtime_.Exec(id, process, options);
  }
  Result<void> Delete(const std::string& id, bool force) override {
    return runtime_.Delete(id, force);
  }
  Result<void> Update(const std::string& id, const oci::Resources& resources) override {
    return runtime_.Update(id, resources);
  }
  Result<void> Checkpoint(const std::string& id, const std::string& image_dir,
                          bool leave_running) override {
    oci::CheckpointOptions options;
    options.image_path = image_dir;
    options.leave_running = leave_running;
    return runtime_.Checkpoint(id, options);
  }
  Result<pid_t> Restore(const std::string& id, const std::string& bundle,
                        const std::string& image_dir) override {
    oci::RestoreOptions options;
    options.bundle = bundle;
    options.image_path = image_dir;
    CR_ASSIGN_OR_RETURN(oci::ContainerState state, runtime_.Restore(id, options));
    return state.pid;
  }

 private:
  Syscalls& sys_;
  oci::CgroupInfo cgroups_;
  oci::Runtime runtime_;
};

}  // namespace

std::unique_ptr<ContainerRuntime> NewInProcessRuntime(Syscalls& sys, const std::string& root,
                                                      oci::CgroupInfo cgroups) {
  return std::make_unique<InProcessRuntime>(sys, root, std::move(cgroups));
}

}  // namespace cricket::shim
