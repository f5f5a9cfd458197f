// Runtime::Checkpoint: `criu dump` of a running container (see runtime.h, oci/criu_args.h).

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/log.h"
#include "oci/bundle.h"
#include "oci/criu.h"
#include "oci/criu_args.h"
#include "oci/runtime.h"

namespace cricket::oci {
namespace {

// The joined network namespace's inode (the pod's): criu treats it as external.
Result<std::optional<uint64_t>> JoinedNetnsInode(const Spec& spec) {
  if (!spec.linux) {
    return std::optional<uint64_t>();
  }
  for (const Namespace& ns : spec.linux->namespaces) {
    if (ns.type == "network" && !ns.path.empty()) {
      struct stat st {};
      if (::stat(ns.path.c_str(), &st) < 0) {
        return Error::FromErrno(errno, "stat network namespace " + ns.path);
      }
      return std::optional<uint64_t>(st.st_ino);
    }
  }
  return std::optional<uint64_t>();
}

// runc's descriptors.json: what the init's fds 0-2 were, so restore can bind new pipes to them.
Result<void> WriteDescriptors(pid_t pid, const std::string& images_dir) {
  nlohmann::json list = nlohmann::json::array();
  for (int fd = 0; fd < 3; ++fd) {
    std::string link = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
    char target[256];
    ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
    list.push_back(n > 0 ? std::string(target, static_cast<size_t>(n)) : std::string("/dev/null"));
  }
  return WriteFileAtomic(images_dir + "/" + kDescriptorsFile, list.dump(), 0600);
}

}  // namespace

Result<void> Runtime::Checkpoint(const std::string& id, const CheckpointOptions& options) {
  if (options.image_path.empty()) {
    return Error(Code::kInvalidArgument, "checkpoint: --image-path is empty");
  }
  CR_ASSIGN_OR_RETURN(ContainerState state, State(id));
  if (state.status != Status::kRunning && state.status != Status::kPaused) {
    return Error(Code::kFailedPrecondition, "container \"" + id + "\" is " +
                                                StatusName(state.status) + ", not running or paused");
  }
  CR_ASSIGN_OR_RETURN(std::string criu, FindCriu());
  CR_RETURN_IF_ERROR(CheckCriu(criu));
  CR_ASSIGN_OR_RETURN(Spec spec, LoadBundle(state.bundle));
  DumpPlan plan;
  plan.pid = state.pid;
  plan.images_dir = options.image_path;
  plan.work_dir = options.work_path.empty() ? options.image_path : options.work_path;
  plan.leave_running = options.leave_running;
  if (state.status == Status::kPaused) {
    plan.freeze_cgroup = NewCgroupManager(sys_, cgroups_, state.cgroup_path)->FreezerDir();
  }
  CR_ASSIGN_OR_RETURN(plan.netns_inode, JoinedNetnsInode(spec));
  CR_RETURN_IF_ERROR(MakeDirs(plan.images_dir, 0700));
  CR_RETURN_IF_ERROR(MakeDirs(plan.work_dir, 0700));
  CR_RETURN_IF_ERROR(WriteDescriptors(state.pid, plan.images_dir));
  CriuCall call;
  call.args = CriuDumpArgs(spec, plan);
  if (auto dumped = RunCriu(criu, call); !dumped.ok()) {
    std::string log_file = plan.work_dir + "/" + kDumpLog;
    return Error(dumped.error().code(), dumped.error().message() + ": " + CriuLogErrors(log_file) +
                                            " (log " + log_file + ")");
  }
  log::Info({.ctr = id}, "container checkpointed to {}{}", plan.images_dir,
            options.leave_running ? " (left running)" : "");
  return Ok();
}

}  // namespace cricket::oci
