// ExecSync and ReopenContainerLog: requests handed to the container's shim.

#include <chrono>

#include "cri/service.h"
#include "oci/spec_json.h"

namespace cricket::cri {

Result<void> CriService::ExecSync(const v1::ExecSyncRequest& req, v1::ExecSyncResponse& resp) {
  if (req.cmd_size() == 0) {
    return Error(Code::kInvalidArgument, "cmd is empty");
  }
  CR_ASSIGN_OR_RETURN(auto running, RunningContainer(req.container_id()));
  const ContainerInfo& info = running.second;
  // The exec'd process gets the container's own user, env and working dir.
  CR_ASSIGN_OR_RETURN(oci::Spec spec, oci::LoadSpec(info.bundle));
  oci::Process process = *spec.process;
  process.args.assign(req.cmd().begin(), req.cmd().end());
  process.terminal = false;
  // CRI: timeout 0 means none; a day stands in for it.
  auto timeout = req.timeout() > 0 ? std::chrono::seconds(req.timeout()) : std::chrono::hours(24);
  CR_ASSIGN_OR_RETURN(
      shim::ExecSyncResult result,
      deps_.shims->Connect(info.shim_dir)
          ->ExecSync(process, std::chrono::duration_cast<std::chrono::milliseconds>(timeout)));
  if (result.timed_out) {
    return Error(Code::kDeadlineExceeded,
                 "command timed out after " + std::to_string(req.timeout()) + " s and was killed");
  }
  resp.set_stdout(result.out);
  resp.set_stderr(result.err);
  resp.set_exit_code(result.exit_code);
  return Ok();
}

Result<void> CriService::ReopenContainerLog(const v1::ReopenContainerLogRequest& req,
                                            v1::ReopenContainerLogResponse& /*resp*/) {
  CR_ASSIGN_OR_RETURN(auto running, RunningContainer(req.container_id()));
  return deps_.shims->Connect(running.second.shim_dir)->ReopenLog();
}

}  // namespace cricket::cri
