// Runtime::Exec: an extra process in a running container (see runtime.h).

#include "common/cleanup.h"
#include "common/log.h"
#include "oci/bundle.h"
#include "oci/cgroup_manager.h"
#include "oci/child_launch.h"
#include "oci/console_socket.h"
#include "oci/runtime.h"
#include "oci/spec_validate.h"

namespace cricket::oci {

Result<pid_t> Runtime::Exec(const std::string& id, const Process& process,
                            const ExecOptions& options) {
  CR_ASSIGN_OR_RETURN(ContainerState state, State(id));
  if (state.status != Status::kRunning) {
    return Error(Code::kFailedPrecondition, "container \"" + id + "\" is " +
                                                StatusName(state.status) + ", not running");
  }
  CR_ASSIGN_OR_RETURN(Spec spec, LoadBundle(state.bundle));
  spec.process = process;
  if (auto valid = ValidateSpec(spec); !valid.ok()) {
    return valid.error().Wrap("exec process");
  }
  CR_ASSIGN_OR_RETURN(UniqueFd console, ConsoleFor(process.terminal, options.console_socket, options.console_fd));
  CR_ASSIGN_OR_RETURN(ChildPlan plan, BuildChildPlan({spec, &cgroups_, state.pid}));
  auto close_ns = Cleanup([&] { CloseOwnedFds(plan); });
  plan.console_fd = console.valid() ? console.get() : -1;
  ApplyStdio(options.stdio, plan);
  auto cgroup = NewCgroupManager(sys_, cgroups_, state.cgroup_path);
  // Before it joins a user namespace the child still has its host identity: it moves itself.
  plan.cgroup_join_files = cgroup->SelfJoinFiles();
  CR_ASSIGN_OR_RETURN(UniqueFd cgroup_fd, cgroup->OpenForClone());
  plan.clone_cgroup_fd = cgroup_fd.get();
  plan.wait_for_parent = plan.cgroup_join_files.empty() && plan.clone_cgroup_fd < 0;
  CR_ASSIGN_OR_RETURN(pid_t pid, LaunchChild(plan, [&](pid_t child) -> Result<void> {
    console.Reset();
    bool joined = !plan.cgroup_join_files.empty() || plan.cgroup_joined_by_clone;
    return joined ? Ok() : cgroup->AddProcess(child);
  }));
  log::Info({.ctr = id}, "exec pid={} {}", pid, process.args[0]);
  return pid;
}

}  // namespace cricket::oci
