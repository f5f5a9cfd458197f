// CRI mounts end to end through cricketd: recursive read-only mounts and bidirectional mount
// propagation (critest's specs, ported). Root; images from the registry fixture.

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/cleanup.h"
#include "common/files.h"
#include "tests/integration/cri/pod_fixture.h"

namespace cricket {
namespace {

using namespace std::chrono_literals;
namespace v1 = ::runtime::v1;
using ::cricket::testing::PodLifecycleTest;

// critest v1.32 "RecursiveReadOnly" (pkg/validate/container_linux.go), ported: the feature is
// advertised; a readonly mount leaves a submount writable, a recursive read-only one does not;
// recursive_read_only with propagation or without readonly is refused.
TEST_F(PodLifecycleTest, RecursiveReadOnlyMounts) {
  grpc::ClientContext status_ctx;
  v1::StatusResponse status;
  ASSERT_TRUE(runtime_->Status(&status_ctx, {}, &status).ok());
  ASSERT_EQ(status.runtime_handlers_size(), 1);
  EXPECT_TRUE(status.runtime_handlers(0).features().recursive_read_only_mounts());

  const std::string host = dir_.Join("rro-host");
  std::filesystem::create_directories(host + "/tmpfs");
  ASSERT_EQ(::mount("none", (host + "/tmpfs").c_str(), "tmpfs", 0, "size=64k"), 0);
  auto unmount = Cleanup([&] { ::umount2((host + "/tmpfs").c_str(), MNT_DETACH); });
  v1::PodSandboxConfig pod_config = PodConfig("rro");
  std::string pod = RunPod(pod_config);
  auto create = [&](const std::string& name, bool readonly, bool rro,
                    v1::MountPropagation propagation, std::string* id) {
    return CreateContainer(pod, pod_config, name, "exec busybox sleep 1000", id, false,
                           [&](v1::ContainerConfig& c) {
                             v1::Mount& m = *c.add_mounts();
                             m.set_host_path(host);
                             m.set_container_path("/mnt");
                             m.set_readonly(readonly);
                             m.set_recursive_read_only(rro);
                             m.set_propagation(propagation);
                           });
  };
  std::string ro;
  ASSERT_TRUE(create("ro", true, false, v1::PROPAGATION_PRIVATE, &ro).ok());
  ASSERT_TRUE(StartContainer(ro).ok());
  v1::ExecSyncResponse out;
  ASSERT_TRUE(Exec(ro, "busybox touch /mnt/tmpfs/file", &out).ok());
  EXPECT_EQ(out.exit_code(), 0) << out.stderr();
  ASSERT_TRUE(Exec(ro, "busybox touch /mnt/top 2>&1 | busybox grep -q 'Read-only file system'", &out).ok());
  EXPECT_EQ(out.exit_code(), 0) << out.stderr();

  std::string rro;
  ASSERT_TRUE(create("rro", true, true, v1::PROPAGATION_PRIVATE, &rro).ok());
  ASSERT_TRUE(StartContainer(rro).ok());
  ASSERT_TRUE(
      Exec(rro, "busybox touch /mnt/tmpfs/foo 2>&1 | busybox grep -q 'Read-only file system'", &out)
          .ok());
  EXPECT_EQ(out.exit_code(), 0) << out.stdout() << out.stderr();

  std::string bad;
  for (auto prop : {v1::PROPAGATION_HOST_TO_CONTAINER, v1::PROPAGATION_BIDIRECTIONAL}) {
    grpc::Status refused = create("bad", true, true, prop, &bad);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << refused.error_message();
  }
  grpc::Status refused = create("bad", false, true, v1::PROPAGATION_PRIVATE, &bad);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << refused.error_message();
  RemovePods();
}

// CVE-2019-16884 class: a volume on /proc or /sys (here /proc/sys, hiding the sysctls the
// runtime writes) is refused with INVALID_ARGUMENT naming the mount, and nothing is made. A
// pod sysctl that is not namespaced (kernel.panic) is refused before the pod is made.
TEST_F(PodLifecycleTest, MountsOnProcAndNodeSysctlsAreRefused) {
  v1::PodSandboxConfig pod_config = PodConfig("procmount");
  std::string pod = RunPod(pod_config);
  const std::string host = dir_.Join("proc-host");
  std::filesystem::create_directories(host);
  for (const char* path : {"/proc/sys", "/./proc", "/sys/kernel"}) {
    std::string id;
    grpc::Status refused =
        CreateContainer(pod, pod_config, "c", "true", &id, false, [&](v1::ContainerConfig& c) {
          v1::Mount& m = *c.add_mounts();
          m.set_host_path(host);
          m.set_container_path(path);
        });
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << refused.error_message();
    EXPECT_NE(refused.error_message().find(std::string("mounts[0].container_path \"") + path),
              std::string::npos)
        << refused.error_message();
  }
  grpc::ClientContext list_ctx;
  v1::ListContainersResponse containers;
  ASSERT_TRUE(runtime_->ListContainers(&list_ctx, {}, &containers).ok());
  EXPECT_EQ(containers.containers_size(), 0);

  v1::PodSandboxConfig panicky = PodConfig("panicky");
  std::string panic_value = "0";
  if (auto text = ReadFile("/proc/sys/kernel/panic"); text.ok()) {
    panic_value = text->substr(0, text->find('\n'));  // the node's own: a failure changes nothing
  }
  (*panicky.mutable_linux()->mutable_sysctls())["kernel.panic"] = panic_value;
  grpc::ClientContext ctx;
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = panicky;
  v1::RunPodSandboxResponse resp;
  grpc::Status ran = runtime_->RunPodSandbox(&ctx, req, &resp);
  EXPECT_EQ(ran.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << ran.error_message();
  EXPECT_NE(ran.error_message().find("config.linux.sysctls[\"kernel.panic\"]"), std::string::npos)
      << ran.error_message();
  grpc::ClientContext pods_ctx;
  v1::ListPodSandboxResponse pods;
  ASSERT_TRUE(runtime_->ListPodSandbox(&pods_ctx, {}, &pods).ok());
  EXPECT_EQ(pods.items_size(), 1);  // procmount only
  RemovePods();
}

// critest v1.32 "mount propagation" Bidirectional, ported: a privileged container with a
// BIDIRECTIONAL mount of a shared host path sees a mount made on the host below it, and a mount
// it makes shows on the host. A private host path is refused with FAILED_PRECONDITION.
TEST_F(PodLifecycleTest, BidirectionalMountPropagation) {
  const std::string host = dir_.Join("bidi");
  std::filesystem::create_directories(host + "/from-host");
  std::filesystem::create_directories(host + "/from-ctr");
  ASSERT_EQ(::mount(host.c_str(), host.c_str(), nullptr, MS_BIND | MS_REC, nullptr), 0);
  auto unmount = Cleanup([&] {
    ::umount2((host + "/from-ctr").c_str(), MNT_DETACH);
    ::umount2((host + "/from-host").c_str(), MNT_DETACH);
    ::umount2(host.c_str(), MNT_DETACH);
  });
  ASSERT_EQ(::mount(nullptr, host.c_str(), nullptr, MS_PRIVATE | MS_REC, nullptr), 0);
  v1::PodSandboxConfig pod_config = PodConfig("bidi");
  std::string pod = RunPod(pod_config);
  auto create = [&](const std::string& name, std::string* id) {
    return CreateContainer(pod, pod_config, name, "exec busybox sleep 1000", id, false,
                           [&](v1::ContainerConfig& c) {
                             c.mutable_linux()->mutable_security_context()->set_privileged(true);
                             v1::Mount& m = *c.add_mounts();
                             m.set_host_path(host);
                             m.set_container_path("/mnt/bidi");
                             m.set_propagation(v1::PROPAGATION_BIDIRECTIONAL);
                           });
  };
  std::string id;
  grpc::Status refused = create("private", &id);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << refused.error_message();
  ASSERT_EQ(::mount(nullptr, host.c_str(), nullptr, MS_SHARED | MS_REC, nullptr), 0);
  grpc::Status created = create("bidi", &id);
  ASSERT_TRUE(created.ok()) << created.error_message();
  ASSERT_TRUE(StartContainer(id).ok());
  ASSERT_EQ(::mount("tmpfs", (host + "/from-host").c_str(), "tmpfs", 0, "size=16k"), 0);
  std::ofstream(host + "/from-host/marker") << "host";
  v1::ExecSyncResponse out;
  ASSERT_TRUE(Exec(id, "busybox cat /mnt/bidi/from-host/marker", &out).ok());
  EXPECT_EQ(out.stdout(), "host");
  ASSERT_TRUE(Exec(id, "busybox mount -t tmpfs -o size=16k tmpfs /mnt/bidi/from-ctr && "
                       "echo ctr > /mnt/bidi/from-ctr/marker", &out).ok());
  EXPECT_EQ(out.exit_code(), 0) << out.stderr();
  EXPECT_EQ(ReadFile(host + "/from-ctr/marker").value_or("<missing>"), "ctr\n");
  RemovePods();
}

}  // namespace
}  // namespace cricket
