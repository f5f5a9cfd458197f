#pragma once

// Fakes of the container handlers' storage seams (cri/container_rootfs.h,
// cri/portable_volumes.h): they record every call and answer what the test sets, so
// CreateContainer's rollback and RemoveContainer's clean-up are checked without root.

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cri/container_rootfs.h"
#include "cri/portable_volumes.h"

namespace cricket::cri::testing {

class FakeRootfs final : public ContainerRootfs {
 public:
  // The pulled images, by name.
  std::map<std::string, storage::Image> images;
  // What Prepare and Mount answer.
  Result<void> prepare = Ok();
  Result<void> mount = Ok();
  // Snapshots prepared and not removed; targets mounted and not unmounted.
  std::set<std::string> snapshots;
  std::set<std::string> mounted;
  std::vector<std::string> removed;
  std::vector<std::string> unmounted;

  Result<storage::Image> FindImage(const std::string& ref_or_id) const override {
    std::lock_guard lock(mu_);
    auto it = images.find(ref_or_id);
    if (it == images.end()) {
      return Error(Code::kNotFound, "no image " + ref_or_id);
    }
    return it->second;
  }
  Result<void> Prepare(const std::string& id, const std::string& /*chain_id*/) override {
    std::lock_guard lock(mu_);
    if (prepare.ok()) {
      snapshots.insert(id);
    }
    return prepare;
  }
  Result<void> Mount(const std::string& /*id*/, const std::string& target,
                     const std::optional<storage::SnapshotIdmap>& /*idmap*/) override {
    std::lock_guard lock(mu_);
    if (mount.ok()) {
      mounted.insert(target);
    }
    return mount;
  }
  Result<void> Unmount(const std::string& target) override {
    std::lock_guard lock(mu_);
    unmounted.push_back(target);
    mounted.erase(target);
    return Ok();
  }
  Result<void> Remove(const std::string& id) override {
    std::lock_guard lock(mu_);
    removed.push_back(id);
    snapshots.erase(id);
    return Ok();
  }
  Result<storage::DiskUsage> Usage(const std::string& /*id*/) const override {
    return storage::DiskUsage{};
  }

 private:
  mutable std::mutex mu_;
};

class FakeVolumes final : public PortableVolumes {
 public:
  // What Attach answers after recording the user (an error leaves nothing recorded).
  Result<void> attach = Ok();
  // volume -> container ids attached to it.
  std::map<std::string, std::set<std::string>> users;
  // (container, publish) of each DetachContainer; pods of each DetachPod; SnapshotContainer's.
  std::vector<std::pair<std::string, bool>> detached;
  std::vector<std::string> detached_pods;
  std::vector<std::string> snapshotted;

  Result<std::string> Attach(const std::string& volume, const std::string& /*pod*/,
                             const std::string& ctr) override {
    std::lock_guard lock(mu_);
    if (!attach.ok()) {
      return attach.error();
    }
    users[volume].insert(ctr);
    return "/var/lib/cricket/volumes/" + volume + "/work";
  }
  Result<void> DetachContainer(const std::string& ctr, bool publish) override {
    std::lock_guard lock(mu_);
    detached.emplace_back(ctr, publish);
    for (auto& [volume, ctrs] : users) {
      ctrs.erase(ctr);
    }
    return Ok();
  }
  Result<void> DetachPod(const std::string& pod) override {
    std::lock_guard lock(mu_);
    detached_pods.push_back(pod);
    return Ok();
  }
  Result<void> SnapshotContainer(const std::string& ctr) override {
    std::lock_guard lock(mu_);
    snapshotted.push_back(ctr);
    return Ok();
  }
  std::vector<storage::AttachedVolume> AttachedToPod(const std::string& /*pod*/) const override {
    return {};
  }

 private:
  mutable std::mutex mu_;
};

}  // namespace cricket::cri::testing
