// AppArmor end to end through cricketd (issue 13, item 8): RuntimeDefault runs under Cricket's
// own cricket-default (loaded on first use) and is refused when it cannot be loaded; Localhost
// and Unconfined do what they say. Needs a node running AppArmor with securityfs mounted and
// apparmor_parser installed: CI runs it in hack/vm (ctest -L apparmor); elsewhere it skips.
// Root; images from the registry fixture.

#include <unistd.h>

#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/subprocess.h"
#include "tests/integration/cri/pod_fixture.h"

namespace cricket {
namespace {

namespace v1 = ::runtime::v1;
using namespace std::chrono_literals;

constexpr const char* kParser = "/sbin/apparmor_parser";
constexpr const char* kProfiles = "/sys/kernel/security/apparmor/profiles";

// What the node lacks for these tests, or "".
std::string MissingAppArmor() {
  if (!ReadFile("/sys/module/apparmor/parameters/enabled").value_or("").starts_with("Y")) {
    return "AppArmor is not enabled on this node (ctest -L apparmor runs this in hack/vm)";
  }
  if (!ReadFile(kProfiles).ok()) {
    return std::string("cannot read ") + kProfiles + " (securityfs not mounted?)";
  }
  if (::access(kParser, X_OK) != 0) {
    return std::string("needs ") + kParser + " (apt-get install apparmor)";
  }
  return "";
}

bool Loaded(const std::string& profile) {
  return ReadFile(kProfiles).value_or("").find(profile + " (enforce)\n") != std::string::npos;
}

class PodAppArmorTest : public ::cricket::testing::PodFixture {
 protected:
  void SetUp() override {
    if (std::string why = MissingAppArmor(); !why.empty()) {
      GTEST_SKIP() << why;
    }
    PodFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    pod_config_ = PodConfig("armored");
    pod_ = RunPod(pod_config_);
    ASSERT_FALSE(pod_.empty());
  }

  void TearDown() override {
    PodFixture::TearDown();
    if (!local_profile_.empty()) {
      // Unload the test's own profile once no container uses it.
      (void)WriteKernelFile("/sys/kernel/security/apparmor/.remove", local_profile_);
    }
  }

  // Starts a container (CAP_SYS_ADMIN and no seccomp, so only AppArmor can refuse a mount) whose
  // first process records its AppArmor label, tries a tmpfs mount and writes /tmp/denied, then
  // sleeps. What it recorded, as "<label>\n<MOUNT_OK|MOUNT_DENIED>\n<WRITE_OK|WRITE_DENIED>\n".
  std::string Observe(const std::string& name,
                      const std::function<void(v1::LinuxContainerSecurityContext&)>& customize) {
    const std::string script =
        "busybox cat /proc/self/attr/current > /tmp/attr; busybox mkdir -p /tmp/m; "
        "if busybox mount -t tmpfs none /tmp/m; then echo MOUNT_OK; else echo MOUNT_DENIED; fi "
        "> /tmp/mount; "
        "if echo x > /tmp/denied; then echo WRITE_OK; else echo WRITE_DENIED; fi > /tmp/write; "
        // Renamed into place: the test reads /tmp/done as soon as it is not empty.
        "busybox cat /tmp/attr /tmp/mount /tmp/write > /tmp/done.new; "
        "busybox mv /tmp/done.new /tmp/done; exec busybox sleep 1000";
    std::string ctr;
    grpc::Status created =
        CreateContainer(pod_, pod_config_, name, script, &ctr, false, [&](v1::ContainerConfig& c) {
          auto& sc = *c.mutable_linux()->mutable_security_context();
          sc.mutable_capabilities()->add_add_capabilities("SYS_ADMIN");
          sc.mutable_seccomp()->set_profile_type(v1::SecurityProfile::Unconfined);
          customize(sc);
        });
    EXPECT_TRUE(created.ok()) << name << ": " << created.error_message();
    EXPECT_TRUE(StartContainer(ctr).ok()) << name;
    v1::ExecSyncResponse out;
    EXPECT_TRUE(WaitFor([&] {
      return Exec(ctr, "busybox cat /tmp/done", &out).ok() && !out.stdout().empty();
    })) << name
        << " never recorded what it saw";
    return out.stdout();
  }

  static std::function<void(v1::LinuxContainerSecurityContext&)> Type(
      v1::SecurityProfile::ProfileType type, const std::string& localhost = "") {
    return [=](v1::LinuxContainerSecurityContext& sc) {
      sc.mutable_apparmor()->set_profile_type(type);
      sc.mutable_apparmor()->set_localhost_ref(localhost);
    };
  }

  v1::PodSandboxConfig pod_config_;
  std::string pod_;
  std::string local_profile_;
};

TEST_F(PodAppArmorTest, RuntimeDefaultIsCricketDefaultWhichDeniesMount) {
  std::string seen = Observe("default", Type(v1::SecurityProfile::RuntimeDefault));
  // cricket-default allows file writes but no mount, even with CAP_SYS_ADMIN.
  EXPECT_EQ(seen, "cricket-default (enforce)\nMOUNT_DENIED\nWRITE_OK\n");
  EXPECT_TRUE(Loaded("cricket-default"));
}

TEST_F(PodAppArmorTest, UnconfinedIsUnconfined) {
  std::string seen = Observe("unconfined", Type(v1::SecurityProfile::Unconfined));
  EXPECT_EQ(seen, "unconfined\nMOUNT_OK\nWRITE_OK\n");
}

TEST_F(PodAppArmorTest, LocalhostProfileIsApplied) {
  local_profile_ = "crtest-" + std::to_string(::getpid()) + "-local";
  SubprocessOptions load;
  load.stdin_data = "profile " + local_profile_ +
                    " flags=(attach_disconnected,mediate_deleted) {\n"
                    "  file,\n  network,\n  capability,\n  signal,\n  ptrace,\n  mount,\n"
                    "  umount,\n  deny /tmp/denied w,\n}\n";
  auto loaded = RunSubprocess({kParser, "-Kr"}, load);
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  ASSERT_EQ(loaded->exit_code, 0) << loaded->err;
  std::string seen = Observe("local", Type(v1::SecurityProfile::Localhost, local_profile_));
  EXPECT_EQ(seen, local_profile_ + " (enforce)\nMOUNT_OK\nWRITE_DENIED\n");
}

TEST_F(PodAppArmorTest, RuntimeDefaultIsRefusedWhenTheProfileCannotBeLoaded) {
  // A node whose cricket-default is gone and whose parser is missing.
  if (Loaded("cricket-default")) {
    ASSERT_TRUE(WriteKernelFile("/sys/kernel/security/apparmor/.remove", "cricket-default").ok());
  }
  WriteConfig("apparmor_parser = \"/nonexistent/apparmor_parser\"\n");
  daemon_->Signal(SIGTERM);
  ASSERT_TRUE(daemon_->WaitExit(20s).has_value());
  Start();

  std::string ctr;
  grpc::Status created = CreateContainer(
      pod_, pod_config_, "refused", "exec busybox sleep 1000", &ctr, false,
      [](v1::ContainerConfig& c) {
        c.mutable_linux()->mutable_security_context()->mutable_apparmor()->set_profile_type(
            v1::SecurityProfile::RuntimeDefault);
      });
  ASSERT_FALSE(created.ok()) << "a RuntimeDefault container was created without its profile";
  EXPECT_EQ(created.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(created.error_message().find("cricket-default"), std::string::npos)
      << created.error_message();
  EXPECT_NE(created.error_message().find("/nonexistent/apparmor_parser"), std::string::npos)
      << created.error_message();
  // Nothing half-made: the pod has no container.
  grpc::ClientContext ctx;
  v1::ListContainersRequest list;
  list.mutable_filter()->set_pod_sandbox_id(pod_);
  v1::ListContainersResponse listed;
  ASSERT_TRUE(runtime_->ListContainers(&ctx, list, &listed).ok());
  EXPECT_EQ(listed.containers_size(), 0);
}

}  // namespace
}  // namespace cricket
