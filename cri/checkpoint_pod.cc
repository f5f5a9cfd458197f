// CheckpointPod / RestorePod: every running container of a pod checkpointed into one archive
// (pod.dump + containers/<name>/, cri/checkpoint_archive.h), and a new pod made from it: the
// sandbox runs again from its config, then each container is created from its checkpoint
// (restored by its shim) and started.

#include <algorithm>
#include <filesystem>

#include <google/protobuf/util/json_util.h>

#include "common/cleanup.h"
#include "common/files.h"
#include "common/log.h"
#include "cri/checkpoint_archive.h"
#include "cri/checkpoint_restore.h"
#include "cri/ids.h"
#include "cri/service.h"

namespace cricket::cri {
namespace {

// The running containers of the pod to checkpoint: `ids` (all must be its, running), or every
// running one when empty.
Result<std::vector<ContainerRecord>> PodContainers(std::vector<ContainerRecord> all,
                                                   const std::string& sandbox_id,
                                                   const std::vector<std::string>& ids) {
  std::vector<ContainerRecord> out;
  for (ContainerRecord& record : all) {
    if (record.sandbox_id != sandbox_id) {
      continue;
    }
    bool wanted = ids.empty() || std::find(ids.begin(), ids.end(), record.id) != ids.end();
    if (wanted && record.state == ContainerState::kRunning) {
      out.push_back(std::move(record));
    } else if (wanted && !ids.empty()) {
      return Error(Code::kFailedPrecondition, "container " + record.id + " is not running");
    }
  }
  if (!ids.empty() && out.size() != ids.size()) {
    return Error(Code::kNotFound,
                 "container_ids: not every id is a container of pod " + sandbox_id);
  }
  return out;
}

// The kMigrateOption of a CheckpointPod request: absent or "false" is a forensic checkpoint.
Result<bool> MigrateOption(const google::protobuf::Map<std::string, std::string>& options) {
  auto it = options.find(kMigrateOption);
  if (it == options.end() || it->second == "false") {
    return false;
  }
  if (it->second == "true") {
    return true;
  }
  return Error(Code::kInvalidArgument, std::string("options[\"") + kMigrateOption +
                                           "\"] must be \"true\" or \"false\", got \"" +
                                           it->second + "\"");
}

Result<void> CheckLocation(const std::string& field, const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return Error(Code::kInvalidArgument, field + " must be an absolute path, got \"" + path + "\"");
  }
  return Ok();
}

}  // namespace

Result<void> CriService::CheckpointPod(const v1::CheckpointPodRequest& req,
                                       v1::CheckpointPodResponse& /*resp*/) {
  CR_RETURN_IF_ERROR(CheckLocation("output_path", req.output_path()));
  CR_ASSIGN_OR_RETURN(const bool migrate, MigrateOption(req.options()));
  CR_ASSIGN_OR_RETURN(std::string sandbox_id, ResolveSandbox(req.pod_sandbox_id()));
  auto lock = locks_.Acquire(sandbox_id);
  CR_ASSIGN_OR_RETURN(SandboxRecord sandbox, deps_.store->GetSandbox(sandbox_id));
  CR_ASSIGN_OR_RETURN(v1::PodSandboxConfig pod_config, DecodeConfig(sandbox));
  CR_ASSIGN_OR_RETURN(std::vector<ContainerRecord> all, deps_.store->ListContainers());
  CR_ASSIGN_OR_RETURN(std::vector<ContainerRecord> containers,
                      PodContainers(std::move(all), sandbox_id,
                                    {req.container_ids().begin(), req.container_ids().end()}));
  for (const ContainerRecord& record : containers) {
    CR_RETURN_IF_ERROR(CheckDumpable(record));
  }
  CR_RETURN_IF_ERROR(CriuReady());
  const std::string work = deps_.config->root + "/checkpoints/" + NewId();
  Cleanup remove_work([&] {
    std::error_code ec;
    std::filesystem::remove_all(work, ec);
  });
  CR_RETURN_IF_ERROR(MakeDirs(work + "/" + kPodContainersDir, 0700));
  std::string pod_json;
  if (!google::protobuf::util::MessageToJsonString(pod_config, &pod_json).ok()) {
    return Error(Code::kInternal, "encode the config of pod " + sandbox_id);
  }
  CR_RETURN_IF_ERROR(WriteFileAtomic(work + "/" + kPodDump, pod_json, 0600));
  for (const ContainerRecord& record : containers) {
    CR_ASSIGN_OR_RETURN(ContainerInfo info, DecodeInfo(record));
    CR_ASSIGN_OR_RETURN(v1::ContainerConfig config, DecodeConfig(record));
    const std::string& name = config.metadata().name();
    if (name.empty() || name.front() == '.' || name.find('/') != std::string::npos) {
      return Error(Code::kInvalidArgument, "container " + record.id + " has no usable name");
    }
    const std::string dir = work + "/" + kPodContainersDir + "/" + name;
    CR_RETURN_IF_ERROR(DumpContainer(deps_, record, info, dir, /*leave_running=*/!migrate));
  }
  if (migrate) {
    CR_RETURN_IF_ERROR(StopMigrated(sandbox_id, containers));
  }
  CR_RETURN_IF_ERROR(WriteArchive(work, req.output_path()));
  log::Info({.pod = sandbox_id}, "pod {} to {} ({} containers)",
            migrate ? "checkpointed and stopped for a move" : "checkpointed", req.output_path(),
            containers.size());
  return Ok();
}

Result<void> CriService::StopMigrated(const std::string& sandbox_id,
                                      const std::vector<ContainerRecord>& containers) {
  // The dump killed them: record their exits (the shims saw them) as StopPodSandbox does.
  for (const ContainerRecord& record : containers) {
    auto lock = locks_.Acquire(record.id);
    CR_RETURN_IF_ERROR(StopContainerLocked(record.id, 0));
  }
  // Their final state is on disk and nothing writes any more: the volumes' final snapshot is
  // exact, and the release lets the restoring node take them.
  if (deps_.volumes != nullptr) {
    CR_RETURN_IF_ERROR(deps_.volumes->DetachPod(sandbox_id));
  }
  return Ok();
}

Result<void> CriService::RestorePod(const v1::RestorePodRequest& req,
                                    v1::RestorePodResponse& resp) {
  CR_RETURN_IF_ERROR(CheckLocation("checkpoint_path", req.checkpoint_path()));
  if (!IsCheckpointArchive(req.checkpoint_path())) {
    return Error(Code::kNotFound, "checkpoint_path " + req.checkpoint_path() + " is not a file");
  }
  CR_RETURN_IF_ERROR(CriuReady());
  const std::string work = deps_.config->root + "/checkpoints/restore-" + NewId();
  CR_RETURN_IF_ERROR(MakeDirs(work, 0700));
  Cleanup remove_work([&] {
    std::error_code ec;
    std::filesystem::remove_all(work, ec);
  });
  if (auto extracted = ExtractArchive(req.checkpoint_path(), work); !extracted.ok()) {
    return Error(Code::kInvalidArgument,
                 "checkpoint_path " + req.checkpoint_path() +
                     ": not a pod checkpoint: " + extracted.error().message());
  }
  v1::PodSandboxConfig pod_config = req.config();
  if (!req.has_config()) {
    CR_ASSIGN_OR_RETURN(std::string text, ReadFile(work + "/" + kPodDump));
    if (!google::protobuf::util::JsonStringToMessage(text, &pod_config).ok()) {
      return Error(Code::kInvalidArgument, "checkpoint_path: pod.dump is malformed");
    }
  }
  v1::RunPodSandboxRequest run;
  *run.mutable_config() = pod_config;
  run.set_runtime_handler(req.runtime_handler());
  v1::RunPodSandboxResponse ran;
  CR_RETURN_IF_ERROR(RunPodSandbox(run, ran));
  const std::string sandbox_id = ran.pod_sandbox_id();
  Cleanup drop_pod([&] {
    v1::StopPodSandboxRequest stop;
    stop.set_pod_sandbox_id(sandbox_id);
    v1::StopPodSandboxResponse stopped;
    (void)StopPodSandbox(stop, stopped);
    v1::RemovePodSandboxRequest remove;
    remove.set_pod_sandbox_id(sandbox_id);
    v1::RemovePodSandboxResponse removed;
    (void)RemovePodSandbox(remove, removed);
  });
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(work + "/" + kPodContainersDir, ec)) {
    const std::string name = entry.path().filename().string();
    v1::CreateContainerRequest create;
    create.set_pod_sandbox_id(sandbox_id);
    *create.mutable_sandbox_config() = pod_config;
    CR_ASSIGN_OR_RETURN(ContainerCheckpoint checkpoint,
                        ReadContainerCheckpoint(entry.path().string()));
    *create.mutable_config() = checkpoint.config;
    for (const v1::ContainerConfig& given : req.container_configs()) {
      if (given.metadata().name() == name) {
        *create.mutable_config() = given;
      }
    }
    CR_ASSIGN_OR_RETURN(auto source, RestoreSourceFromDir(entry.path().string(), create.config()));
    v1::CreateContainerResponse created;
    CR_RETURN_IF_ERROR(CreateContainerFrom(create, source.get(), created));
    v1::StartContainerRequest start;
    start.set_container_id(created.container_id());
    v1::StartContainerResponse started;
    CR_RETURN_IF_ERROR(StartContainer(start, started));
    v1::RestoredContainer* restored = resp.add_restored_containers();
    restored->set_name(name);
    restored->set_container_id(created.container_id());
  }
  if (ec) {
    return Error(Code::kInvalidArgument, "checkpoint_path: no containers/ directory");
  }
  drop_pod.Dismiss();
  resp.set_pod_sandbox_id(sandbox_id);
  log::Info({.pod = sandbox_id}, "pod restored from {} ({} containers)", req.checkpoint_path(),
            resp.restored_containers_size());
  return Ok();
}

}  // namespace cricket::cri
