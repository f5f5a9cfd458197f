// Runtime::Restore: a container made from CRIU images (see runtime.h, oci/criu_args.h): its
// state dir and cgroup as Create makes them, then `criu restore` started inside that cgroup.

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/cleanup.h"
#include "common/files.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "oci/bundle.h"
#include "oci/cgroup_manager.h"
#include "oci/criu.h"
#include "oci/criu_args.h"
#include "oci/proc_stat.h"
#include "oci/runtime.h"

namespace cricket::oci {
namespace {

// The stdio the container had at dump time; none when the file is missing or malformed (then
// criu reopens what it recorded).
std::vector<std::string> ReadDescriptors(const std::string& images_dir) {
  auto text = ReadFile(images_dir + "/" + kDescriptorsFile);
  std::vector<std::string> out;
  if (!text.ok()) {
    return out;
  }
  auto list = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!list.is_array()) {
    return out;
  }
  for (const auto& item : list) {
    out.push_back(item.is_string() ? item.get<std::string>() : "");
  }
  return out;
}

Result<UniqueFd> OpenJoinedNetns(const Spec& spec) {
  if (spec.linux) {
    for (const Namespace& ns : spec.linux->namespaces) {
      if (ns.type == "network" && !ns.path.empty()) {
        UniqueFd fd(::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC));  // NOLINT
        if (!fd.valid()) {
          return Error::FromErrno(errno, "open network namespace " + ns.path);
        }
        return fd;
      }
    }
  }
  return UniqueFd();
}

Result<pid_t> ReadPidFile(const std::string& path) {
  CR_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  int pid = std::atoi(text.c_str());
  if (pid <= 0) {
    return Error(Code::kInternal, "criu restore wrote no pid to " + path);
  }
  return static_cast<pid_t>(pid);
}

}  // namespace

Result<ContainerState> Runtime::Restore(const std::string& id, const RestoreOptions& options) {
  if (options.image_path.empty()) {
    return Error(Code::kInvalidArgument, "restore: --image-path is empty");
  }
  CR_ASSIGN_OR_RETURN(std::string criu, FindCriu());
  CR_RETURN_IF_ERROR(CheckCriu(criu));
  CR_RETURN_IF_ERROR(store_.Reserve(id));
  auto remove_dir = Cleanup([&] { (void)store_.Remove(id); });
  CR_ASSIGN_OR_RETURN(std::string bundle, AbsoluteDir(options.bundle));
  CR_ASSIGN_OR_RETURN(Spec spec, LoadBundle(bundle));

  CR_ASSIGN_OR_RETURN(ContainerState state, NewState(id, bundle, spec));
  CR_RETURN_IF_ERROR(store_.Save(state));  // intent: names the cgroup to remove after a crash
  auto cgroup = NewCgroupManager(sys_, cgroups_, state.cgroup_path);
  const Resources* resources =
      spec.linux && spec.linux->resources ? &*spec.linux->resources : nullptr;
  if (auto made = cgroup->Create(resources); !made.ok()) {
    return made.error().Wrap("create cgroup " + state.cgroup_path);
  }
  auto kill_all = Cleanup([&] {
    (void)KillAndReap(state);
    (void)cgroup->Destroy();
  });

  RestorePlan plan;
  plan.images_dir = options.image_path;
  plan.work_dir = options.work_path.empty() ? options.image_path : options.work_path;
  CR_RETURN_IF_ERROR(MakeDirs(plan.work_dir, 0700));
  const std::filesystem::path root(spec.root->path);
  plan.rootfs =
      root.is_absolute() ? root.string() : (std::filesystem::path(bundle) / root).string();
  plan.pidfile = plan.work_dir + "/restore.pid";
  ::unlink(plan.pidfile.c_str());
  CR_ASSIGN_OR_RETURN(UniqueFd netns, OpenJoinedNetns(spec));
  plan.netns_fd = netns.get();
  plan.descriptors = ReadDescriptors(plan.images_dir);

  CriuCall call;
  call.args = CriuRestoreArgs(spec, plan);
  if (netns.valid()) {
    call.keep_fds.push_back(netns.get());
  }
  // Everything criu restores starts in the container's cgroup (criu leaves cgroups alone).
  call.before_exec = [&](pid_t child) { return cgroup->AddProcess(child); };
  if (auto restored = RunCriu(criu, call); !restored.ok()) {
    std::string log_file = plan.work_dir + "/" + kRestoreLog;
    return Error(restored.error().code(), restored.error().message() + ": " +
                                              CriuLogErrors(log_file) + " (log " + log_file + ")");
  }
  CR_ASSIGN_OR_RETURN(state.pid, ReadPidFile(plan.pidfile));
  auto stat = ReadProcStat(state.pid);
  state.pid_start_time = stat.ok() ? stat->start_time : 0;
  state.status = Status::kRunning;
  CR_RETURN_IF_ERROR(store_.Save(state));
  kill_all.Dismiss();
  remove_dir.Dismiss();
  log::Info({.ctr = id}, "container restored from {} pid={}", plan.images_dir, state.pid);
  return state;
}

}  // namespace cricket::oci
