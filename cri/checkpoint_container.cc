// CheckpointContainer: the running container's CRIU images, spec, config and rootfs diff in one
// archive at `location` (cri/checkpoint_archive.h). The container goes on running.

#include <filesystem>

#include "common/cleanup.h"
#include "common/files.h"
#include "common/log.h"
#include "cri/checkpoint_archive.h"
#include "cri/ids.h"
#include "cri/service.h"

namespace cricket::cri {

Result<void> CriService::CheckpointContainer(const v1::CheckpointContainerRequest& req,
                                             v1::CheckpointContainerResponse& /*resp*/) {
  if (req.location().empty()) {
    return Error(Code::kInvalidArgument, "location is empty");
  }
  if (req.location().front() != '/') {
    return Error(Code::kInvalidArgument, "location " + req.location() + " is not absolute");
  }
  CR_ASSIGN_OR_RETURN(std::string id, ResolveContainer(req.container_id()));
  auto lock = locks_.Acquire(id);
  CR_ASSIGN_OR_RETURN(auto running, RunningContainer(id));
  const auto& [record, info] = running;
  // Before anything is written: a container criu cannot dump, or a node without a working
  // CRIU, says why.
  CR_RETURN_IF_ERROR(CheckDumpable(record));
  CR_RETURN_IF_ERROR(CriuReady());
  // The images can be as large as the container's memory: on disk, not in /run.
  const std::string work = deps_.config->root + "/checkpoints/" + NewId();
  Cleanup remove_work([&] {
    std::error_code ec;
    std::filesystem::remove_all(work, ec);
  });
  CR_RETURN_IF_ERROR(DumpContainer(deps_, record, info, work));
  CR_RETURN_IF_ERROR(WriteArchive(work, req.location()));
  log::Info({.pod = record.sandbox_id, .ctr = id}, "container checkpointed to {}", req.location());
  return Ok();
}

}  // namespace cricket::cri
