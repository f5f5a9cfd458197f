#include "oci/criu_args.h"

#include <algorithm>

namespace cricket::oci {
namespace {

// Options shared by dump and restore: established TCP connections and file locks go along
// (CRI-O and runc do the same for containers); the kernel objects of the image are ours.
void AddCommon(std::vector<std::string>& args, const std::string& images_dir,
               const std::string& work_dir) {
  args.insert(args.end(), {"--images-dir", images_dir, "--work-dir", work_dir,
                           "--manage-cgroups=ignore", "--tcp-established", "--file-locks", "-v4"});
}

}  // namespace

bool IsBindMount(const Mount& mount) {
  if (mount.type == "bind") {
    return true;
  }
  return std::any_of(mount.options.begin(), mount.options.end(),
                     [](const std::string& o) { return o == "bind" || o == "rbind"; });
}

std::vector<std::string> CriuDumpArgs(const Spec& spec, const DumpPlan& plan) {
  std::vector<std::string> args = {"dump", "--tree", std::to_string(plan.pid), "--log-file",
                                   kDumpLog};
  AddCommon(args, plan.images_dir, plan.work_dir);
  if (plan.leave_running) {
    args.push_back("--leave-running");
  }
  if (!plan.freeze_cgroup.empty()) {
    args.insert(args.end(), {"--freeze-cgroup", plan.freeze_cgroup});
  }
  for (const Mount& m : spec.mounts) {
    if (IsBindMount(m)) {
      args.insert(args.end(), {"--external", "mnt[" + m.destination + "]:" + m.destination});
    }
  }
  if (plan.netns_inode) {
    args.insert(args.end(),
                {"--external", "net[" + std::to_string(*plan.netns_inode) + "]:" + kCriuNetnsKey});
  }
  return args;
}

std::vector<std::string> CriuRestoreArgs(const Spec& spec, const RestorePlan& plan) {
  std::vector<std::string> args = {"restore",   "-d",         "--restore-sibling",
                                   "--pidfile", plan.pidfile, "--root",
                                   plan.rootfs, "--log-file", kRestoreLog};
  AddCommon(args, plan.images_dir, plan.work_dir);
  for (const Mount& m : spec.mounts) {
    if (IsBindMount(m)) {
      args.insert(args.end(), {"--external", "mnt[" + m.destination + "]:" + m.source});
    }
  }
  if (plan.netns_fd >= 0) {
    args.insert(args.end(),
                {"--inherit-fd", "fd[" + std::to_string(plan.netns_fd) + "]:" + kCriuNetnsKey});
  }
  for (size_t i = 0; i < plan.descriptors.size() && i < 3; ++i) {
    if (plan.descriptors[i].starts_with("pipe:")) {
      args.insert(args.end(),
                  {"--inherit-fd", "fd[" + std::to_string(i) + "]:" + plan.descriptors[i]});
    }
  }
  return args;
}

}  // namespace cricket::oci
