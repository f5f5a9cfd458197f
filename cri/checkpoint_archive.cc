// The checkpoint archive layout (see checkpoint_archive.h): dumping a container into it,
// packing it atomically, and reading it back for a restore.

#include "cri/checkpoint_archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/files.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "cri/runtime_handlers.h"
#include "oci/criu.h"
#include "storage/dir_archive.h"
#include "storage/layer_unpack.h"

namespace cricket::cri {
namespace {

// checkpointctl's ContainerConfig fields, and the CRI config a restore needs.
Result<std::string> ConfigDump(const ContainerRecord& record, const ContainerInfo& info) {
  CR_ASSIGN_OR_RETURN(v1::ContainerConfig config, DecodeConfig(record));
  std::string config_json;
  if (!google::protobuf::util::MessageToJsonString(config, &config_json).ok()) {
    return Error(Code::kInternal, "encode the config of container " + record.id);
  }
  nlohmann::json doc = {
      {"id", record.id},
      {"name", record.name},
      {"rootfsImage", info.image_id},
      {"rootfsImageRef", info.image_id},
      {"rootfsImageName", info.image_name},
      {"runtime", info.runtime_handler.empty() ? "cricket" : info.runtime_handler},
      {"createdTime", Rfc3339Utc(record.created_at_ns)},
      {"checkpointedTime", Rfc3339Utc(NowUnixNanos())},
      {"cricketContainerConfig", nlohmann::json::parse(config_json)},
  };
  return doc.dump(2);
}

Result<void> PackInto(const std::string& dir, const std::string& tar_path) {
  UniqueFd out(::open(tar_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));  // NOLINT
  if (!out.valid()) {
    return Error::FromErrno(errno, "create " + tar_path);
  }
  CR_RETURN_IF_ERROR(storage::PackDirectory(dir, out.get()));
  if (::fsync(out.get()) < 0) {
    return Error::FromErrno(errno, "fsync " + tar_path);
  }
  return Ok();
}

Result<void> Unpack(const std::string& tar_path, const std::string& dir, bool privileged) {
  UniqueFd in(::open(tar_path.c_str(), O_RDONLY | O_CLOEXEC));  // NOLINT
  if (!in.valid()) {
    return Error::FromErrno(errno, "open " + tar_path);
  }
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));  // NOLINT
  if (!dir_fd.valid()) {
    return Error::FromErrno(errno, "open " + dir);
  }
  storage::UnpackOptions options;
  options.privileged = privileged;
  auto unpacked = storage::UnpackLayer(in.get(), dir_fd.get(), options);
  if (!unpacked.ok()) {
    return unpacked.error().Wrap("unpack " + tar_path);
  }
  return Ok();
}

}  // namespace

Result<void> CriuReady() {
  CR_ASSIGN_OR_RETURN(std::string criu, oci::FindCriu());
  return oci::CheckCriu(criu);
}

Result<void> CheckDumpable(const ContainerRecord& record) {
  CR_ASSIGN_OR_RETURN(v1::ContainerConfig config, DecodeConfig(record));
  // cri/container_spec.cc (SetNamespaces) gives a container a PID namespace of its own only
  // for CONTAINER; POD joins the infra process's (its init), NODE and TARGET create none.
  const v1::NamespaceMode mode = config.linux().security_context().namespace_options().pid();
  if (mode == v1::CONTAINER) {
    return Ok();
  }
  return Error(Code::kFailedPrecondition,
               "container " + record.id + " cannot be checkpointed: it shares a PID namespace (" +
                   "linux.security_context.namespace_options.pid is " +
                   v1::NamespaceMode_Name(mode) +
                   "), and criu dumps only a container that is the init of its own PID namespace "
                   "(pid CONTAINER, a pod without shareProcessNamespace)");
}

Result<void> DumpContainer(const CriDeps& deps, const ContainerRecord& record,
                           const ContainerInfo& info, const std::string& dir, bool leave_running) {
  if (!deps.cgroups.ok() || deps.sys == nullptr) {
    return Error(Code::kFailedPrecondition, "the runtime is not ready: no cgroups");
  }
  CR_ASSIGN_OR_RETURN(std::string upper, deps.rootfs->UpperDir(record.id));
  CR_ASSIGN_OR_RETURN(auto runtime, ContainerRuntimeFor(*deps.config, info.runtime_handler,
                                                        *deps.sys, *deps.cgroups, info.shim_dir));
  CR_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  // Kubelet's checkpoint API is forensic: the container goes on running (as with CRI-O); a
  // migration (CheckpointPod's kMigrateOption) stops it with the dump. One that goes on running
  // is frozen from before the dump until its writable layer is packed: else it writes on in
  // between, and criu restore refuses files that no longer match the images ("File tmp/count
  // has bad size 2 (expect 0)"). A dump without leave_running ends its processes before the pack.
  std::unique_ptr<oci::CgroupManager> frozen;
  auto thaw = [&] {
    if (frozen) {
      if (auto thawed = frozen->Freeze(false); !thawed.ok()) {
        log::Warn({.ctr = record.id}, "thaw after checkpoint: {}", thawed.error().message());
      }
      frozen.reset();
    }
  };
  auto thaw_on_error = Cleanup(thaw);
  if (leave_running) {
    CR_ASSIGN_OR_RETURN(frozen, runtime->Cgroup(record.id));
    if (auto paused = frozen->Freeze(true); !paused.ok()) {  // thawed again on the way out
      return paused.error().Wrap("freeze container " + record.id + " for its checkpoint");
    }
  }
  CR_RETURN_IF_ERROR(runtime->Checkpoint(record.id, dir + "/" + kCheckpointDir, leave_running));
  CR_RETURN_IF_ERROR(PackInto(upper, dir + "/" + kRootfsDiffTar));
  thaw();  // what follows reads only cricketd's own files
  CR_ASSIGN_OR_RETURN(std::string spec, ReadFile(info.bundle + "/config.json"));
  CR_RETURN_IF_ERROR(WriteFileAtomic(dir + "/" + kSpecDump, spec, 0600));
  CR_ASSIGN_OR_RETURN(std::string config, ConfigDump(record, info));
  return WriteFileAtomic(dir + "/" + kConfigDump, config, 0600);
}

Result<void> WriteArchive(const std::string& dir, const std::string& location) {
  const std::filesystem::path target(location);
  std::error_code ec;
  if (!std::filesystem::is_directory(target.parent_path(), ec)) {
    return Error(Code::kInvalidArgument, "location " + location + ": directory " +
                                             target.parent_path().string() + " does not exist");
  }
  const std::string temp = location + ".tmp-" + std::to_string(::getpid());
  ::unlink(temp.c_str());
  Cleanup remove_temp([&] { ::unlink(temp.c_str()); });
  CR_RETURN_IF_ERROR(PackInto(dir, temp));
  if (::rename(temp.c_str(), location.c_str()) < 0) {
    return Error::FromErrno(errno, "rename " + temp + " to " + location);
  }
  remove_temp.Dismiss();
  return Ok();
}

Result<void> ExtractArchive(const std::string& path, const std::string& dir) {
  return Unpack(path, dir, /*privileged=*/false);
}

Result<ContainerCheckpoint> ReadContainerCheckpoint(const std::string& dir) {
  const std::string config_path = dir + "/" + kConfigDump;
  CR_ASSIGN_OR_RETURN(std::string text, ReadFile(config_path));
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc["rootfsImageName"].is_string() ||
      !doc["cricketContainerConfig"].is_object()) {
    return Error(Code::kInvalidArgument, config_path +
                                             ": not a cricket checkpoint (rootfsImageName or "
                                             "cricketContainerConfig missing)");
  }
  ContainerCheckpoint checkpoint;
  checkpoint.dir = dir;
  checkpoint.image_name = doc["rootfsImageName"].get<std::string>();
  if (!google::protobuf::util::JsonStringToMessage(doc["cricketContainerConfig"].dump(),
                                                   &checkpoint.config)
           .ok()) {
    return Error(Code::kInvalidArgument, config_path + ": cricketContainerConfig is malformed");
  }
  for (const char* name : {kSpecDump, kRootfsDiffTar}) {
    if (::access((dir + "/" + name).c_str(), R_OK) != 0) {
      return Error(Code::kInvalidArgument, "checkpoint " + dir + " has no " + name);
    }
  }
  if (::access((checkpoint.images_dir() + "/inventory.img").c_str(), R_OK) != 0) {
    return Error(Code::kInvalidArgument, "checkpoint " + dir + " has no CRIU images");
  }
  return checkpoint;
}

Result<void> ApplyRootfsDiff(const ContainerCheckpoint& checkpoint, const std::string& upper_dir) {
  return Unpack(checkpoint.dir + "/" + kRootfsDiffTar, upper_dir, /*privileged=*/true);
}

bool IsCheckpointArchive(const std::string& image) {
  if (image.empty() || image.front() != '/') {
    return false;
  }
  struct stat st {};
  return ::stat(image.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

v1::ContainerConfig RestoredConfig(const v1::ContainerConfig& request,
                                   const ContainerCheckpoint& checkpoint) {
  v1::ContainerConfig out = request;
  out.mutable_image()->set_image(checkpoint.image_name);
  const v1::ContainerConfig& old = checkpoint.config;
  if (out.command().empty()) {
    *out.mutable_command() = old.command();
  }
  if (out.args().empty()) {
    *out.mutable_args() = old.args();
  }
  if (out.envs().empty()) {
    *out.mutable_envs() = old.envs();
  }
  if (out.working_dir().empty()) {
    out.set_working_dir(old.working_dir());
  }
  return out;
}

}  // namespace cricket::cri
