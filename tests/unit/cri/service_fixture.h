// What the CriService unit tests share (handlers_test, startup_reconcile_test,
// container_reconcile_test): a real metadata store on a temp dir, a config pointing into it, the
// fake pod network, rootfs snapshots and volumes, AppArmor off, and the dependencies wired from
// them. Each test fixture adds its own shims and syscall seam, because that is where they differ.

#ifndef CRICKET_TESTS_UNIT_CRI_SERVICE_FIXTURE_H_
#define CRICKET_TESTS_UNIT_CRI_SERVICE_FIXTURE_H_

#include <memory>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "cri/apparmor_profiles.h"
#include "cri/service.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/cri/fake_shims.h"
#include "tests/unit/cri/fake_storage.h"

namespace cricket::cri::testing {

// /proc/self/mountinfo of a cgroup v2 host, for tests that need cgroups detected.
inline constexpr std::string_view kCgroupV2Mountinfo =
    "30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n";

class CriServiceFixture : public ::testing::Test {
 protected:
  explicit CriServiceFixture(const std::string& tag) : dir_(tag) {
    config_.state = dir_.Join("state");
    config_.volumes.portable_root = dir_.Join("portable");
    storage::Image image;
    image.id = "sha256:" + std::string(64, 'i');
    image.chain_id = "sha256:" + std::string(64, 'l');
    rootfs_.images["busybox"] = image;
    store_ = MetadataStore::Open(dir_.Join("db")).value();
  }

  // The dependencies of everything above; the caller adds `shims` and, where used, `sys`.
  CriDeps BaseDeps() {
    CriDeps deps;
    deps.config = &config_;
    deps.store = store_.get();
    deps.cgroups = cgroups_;
    deps.network = &network_;
    deps.rootfs = &rootfs_;
    deps.volumes = &volumes_;
    deps.apparmor = &apparmor_;
    deps.pause_binary = "/usr/libexec/cricket/cricket-pause";
    return deps;
  }

  // A pod named web in default, uid-1.
  static v1::RunPodSandboxRequest PodRequest() {
    v1::RunPodSandboxRequest req;
    auto* md = req.mutable_config()->mutable_metadata();
    md->set_name("web");
    md->set_namespace_("default");
    md->set_uid("uid-1");
    req.mutable_config()->set_hostname("web");
    return req;
  }

  std::string ShimDir(const std::string& id) const {
    return config_.state + "/shims/" + id.substr(0, 16);
  }

  ::cricket::testing::TempDir dir_;
  Config config_;
  std::unique_ptr<MetadataStore> store_;
  Result<oci::CgroupInfo> cgroups_ = Error(Code::kUnavailable, "cgroups not detected");
  FakeNetwork network_;
  FakeRootfs rootfs_;
  FakeVolumes volumes_;
  // AppArmor off: its module parameter does not exist.
  AppArmorProfiles apparmor_{"/nonexistent/apparmor_parser", dir_.Join("no-apparmor"),
                             dir_.Join("no-profiles")};
};

}  // namespace cricket::cri::testing

#endif  // CRICKET_TESTS_UNIT_CRI_SERVICE_FIXTURE_H_
