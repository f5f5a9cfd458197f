// Each security-context option of a container is observable from inside it, end to end
// through cricketd (what critest's Security Context specs check; CI cannot run critest).
// Root; images from the registry fixture.

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "common/files.h"
#include "tests/integration/cri/pod_fixture.h"

namespace cricket {
namespace {

namespace v1 = ::runtime::v1;

class PodSecurityTest : public ::cricket::testing::PodFixture {
 protected:
  // Starts a container customised by `customize` in the test's pod and runs `check` in it.
  v1::ExecSyncResponse RunIn(const std::string& name,
                             const std::function<void(v1::ContainerConfig&)>& customize,
                             const std::string& check) {
    std::string ctr;
    grpc::Status created =
        CreateContainer(pod_, pod_config_, name, "exec busybox sleep 1000", &ctr, false, customize);
    EXPECT_TRUE(created.ok()) << name << ": " << created.error_message();
    EXPECT_TRUE(StartContainer(ctr).ok()) << name;
    v1::ExecSyncResponse out;
    EXPECT_TRUE(Exec(ctr, check, &out).ok()) << name;
    return out;
  }

  static v1::LinuxContainerSecurityContext& Sc(v1::ContainerConfig& c) {
    return *c.mutable_linux()->mutable_security_context();
  }

  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    pod_config_ = PodConfig("secure");
    (*pod_config_.mutable_linux()->mutable_sysctls())["net.ipv4.ip_unprivileged_port_start"] = "42";
    pod_ = RunPod(pod_config_);
    ASSERT_FALSE(pod_.empty());
  }

  v1::PodSandboxConfig pod_config_;
  std::string pod_;
};

TEST_F(PodSecurityTest, CapabilitiesDropAllAddOneAndNoNewPrivs) {
  auto out = RunIn(
      "caps",
      [](v1::ContainerConfig& c) {
        Sc(c).mutable_capabilities()->add_drop_capabilities("ALL");
        Sc(c).mutable_capabilities()->add_add_capabilities("NET_BIND_SERVICE");
        Sc(c).set_no_new_privs(true);
        c.set_working_dir("/");  // the image's /home/app needs CAP_DAC_OVERRIDE for root
      },
      "busybox grep -E '^(CapEff|NoNewPrivs)' /proc/self/status");
  EXPECT_EQ(out.stdout(), "CapEff:\t0000000000000400\nNoNewPrivs:\t1\n");
}

TEST_F(PodSecurityTest, UserAndGroup) {
  auto out = RunIn(
      "user",
      [](v1::ContainerConfig& c) {
        Sc(c).mutable_run_as_user()->set_value(1234);
        Sc(c).mutable_run_as_group()->set_value(5678);
      },
      "busybox id -u; busybox id -g");
  EXPECT_EQ(out.stdout(), "1234\n5678\n");
}

TEST_F(PodSecurityTest, ReadonlyRootfsMaskedAndReadonlyPaths) {
  auto out = RunIn(
      "paths",
      [](v1::ContainerConfig& c) {
        Sc(c).set_readonly_rootfs(true);
        Sc(c).add_masked_paths("/proc/version");
        Sc(c).add_readonly_paths("/dev/shm");
      },
      "busybox touch /rootfs-file 2>/dev/null && echo rootfs-writable; "
      "busybox touch /dev/shm/x 2>/dev/null && echo shm-writable; "
      "echo version=$(busybox cat /proc/version)");
  EXPECT_EQ(out.stdout(), "version=\n");
}

TEST_F(PodSecurityTest, LocalhostSeccompProfileDeniesWithItsErrno) {
  const std::string profile = dir_.Join("deny-mkdir.json");
  ASSERT_TRUE(WriteFileAtomic(profile,
                              R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [)"
                              R"({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",)"
                              R"( "errnoRet": 13}]})",
                              0644)
                  .ok());
  auto out = RunIn(
      "seccomp",
      [&](v1::ContainerConfig& c) {
        Sc(c).mutable_seccomp()->set_profile_type(v1::SecurityProfile::Localhost);
        Sc(c).mutable_seccomp()->set_localhost_ref(profile);
      },
      "busybox mkdir /tmp/d 2>&1; busybox touch /tmp/f && echo touch-ok");
  EXPECT_NE(out.stdout().find("Permission denied"), std::string::npos) << out.stdout();
  EXPECT_NE(out.stdout().find("touch-ok"), std::string::npos) << out.stdout();
}

TEST_F(PodSecurityTest, PrivilegedGetsEveryCapabilityAndTheHostsDevices) {
  auto out = RunIn(
      "privileged", [](v1::ContainerConfig& c) { Sc(c).set_privileged(true); },
      "busybox grep ^CapEff /proc/self/status; busybox test -c /dev/null && echo has-null; "
      "busybox mkdir -p /tmp/m && busybox mount -t tmpfs none /tmp/m && echo mounted");
  std::string bounding = ReadFile("/proc/self/status").value_or("");
  size_t at = bounding.find("CapBnd:\t");
  ASSERT_NE(at, std::string::npos);
  EXPECT_NE(out.stdout().find("CapEff:\t" + bounding.substr(at + 8, 16)), std::string::npos)
      << out.stdout();
  EXPECT_NE(out.stdout().find("mounted"), std::string::npos) << out.stdout() << out.stderr();
}

TEST_F(PodSecurityTest, PodSysctlsReachTheContainers) {
  auto out = RunIn("sysctl", {}, "busybox cat /proc/sys/net/ipv4/ip_unprivileged_port_start");
  EXPECT_EQ(out.stdout(), "42\n");
}

// CVE-2024-21626 class (issue 13 item 1): a working directory through /proc/self/fd/N, from
// the CRI's working_dir or from the image's WORKDIR, would start the process in a directory the
// container's init inherited from the shim. CreateContainer refuses it, naming the path.
TEST_F(PodSecurityTest, WorkingDirThroughAnInheritedFdIsRefused) {
  for (int fd = 3; fd <= 32; ++fd) {
    const std::string cwd = "/proc/self/fd/" + std::to_string(fd);
    std::string ctr;
    grpc::Status created =
        CreateContainer(pod_, pod_config_, "fd" + std::to_string(fd), "busybox ls ../../../..",
                        &ctr, false, [&](v1::ContainerConfig& c) { c.set_working_dir(cwd); });
    EXPECT_FALSE(created.ok()) << "working_dir " << cwd << " was accepted";
    EXPECT_NE(created.error_message().find(cwd), std::string::npos) << created.error_message();
  }
}

TEST_F(PodSecurityTest, ImageWorkdirThroughAnInheritedFdIsRefused) {
  std::string image = image_;
  image.replace(image.find("test/busybox"), std::string("test/busybox").size(), "test/fdworkdir");
  grpc::ClientContext ctx;
  v1::PullImageRequest pull;
  pull.mutable_image()->set_image(image);
  v1::PullImageResponse pulled;
  ASSERT_TRUE(ImageStub()->PullImage(&ctx, pull, &pulled).ok()) << image;
  std::string ctr;
  grpc::Status created =
      CreateContainer(pod_, pod_config_, "fdworkdir", "", &ctr, false, [&](v1::ContainerConfig& c) {
        c.mutable_image()->set_image(image);
        c.clear_command();
        c.clear_args();
      });
  EXPECT_FALSE(created.ok()) << "WORKDIR /proc/self/fd/3 was accepted";
  EXPECT_NE(created.error_message().find("/proc/self/fd/3"), std::string::npos)
      << created.error_message();
}

}  // namespace
}  // namespace cricket
