// The Debian package on a node booted with systemd (issue #17.1): runs only inside hack/vm's
// systemd guest (ctest package_install_vm), never on the host it would install onto. dpkg -i the
// .deb that hack/package built, start cricketd.service (Type=notify: `systemctl start` returns
// once cricketd said READY=1, so the socket must answer at once), the CRI Version through
// cricketctl, a pod with a running container, `systemctl restart cricketd` (the container keeps
// running: same PID, same start time), then dpkg --purge leaves no file and no unit behind.

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/files.h"
#include "common/subprocess.h"
#include "tests/support/cri_calls.h"
#include "tests/support/cricketd_process.h"
#include "tests/support/registry_fixture.h"
#include "tests/support/temp_dir.h"

namespace cricket::testing {
namespace {

namespace v1 = ::runtime::v1;
namespace fs = std::filesystem;

constexpr const char* kSocket = "/run/cricket/cricket.sock";
// The container's process: a sleep with an argument no other process on the guest has.
constexpr const char* kSleepArg = "86417";

struct Ran {
  int code = -1;
  std::string out;
};

Ran Sh(const std::string& command) {
  SubprocessOptions options;
  options.timeout = std::chrono::minutes(3);
  auto run = RunSubprocess({"/bin/sh", "-c", command + " 2>&1"}, options);
  if (!run.ok()) {
    return {-1, run.error().ToString()};
  }
  return {run->exit_code, run->out};
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

std::string Property(const std::string& name) {
  return Trim(Sh("systemctl show -p " + name + " --value cricketd.service").out);
}

// The PID of the container's sleep, found by its command line; 0 when none.
pid_t ContainerPid() {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string cmdline = ReadFile(entry.path().string() + "/cmdline").value_or("");
    if (cmdline == std::string("sleep\0", 6) + kSleepArg + std::string(1, '\0')) {
      return std::stoi(entry.path().filename().string());
    }
  }
  return 0;
}

// Field 22 of /proc/<pid>/stat: the start time, which a new process with a reused PID differs in.
std::string StartTime(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat").value_or("");
  std::istringstream in(stat.substr(stat.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 22 && in >> field; ++i) {
  }
  return field;
}

// A channel of its own to cricketd's socket. grpc::CreateChannel shares connections between
// channels to the same address (gRPC's global subchannel pool): a stub made after `systemctl
// restart` would send its first call on the connection to the stopped cricketd, and that call
// fails with UNAVAILABLE "Broken pipe" (gRPC's error, never seen by the new cricketd). Session
// 7's "restarted cricketd reports the container CONTAINER_UNKNOWN" was that failed call.
std::shared_ptr<grpc::Channel> FreshChannel() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(std::string("unix:") + kSocket,
                                   grpc::InsecureChannelCredentials(), args);
}

v1::ContainerState State(v1::RuntimeService::Stub& runtime, const std::string& id) {
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(true);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::ContainerStatusRequest req;
  req.set_container_id(id);
  v1::ContainerStatusResponse resp;
  grpc::Status status = runtime.ContainerStatus(&ctx, req, &resp);
  if (!status.ok()) {
    ADD_FAILURE() << "ContainerStatus: " << status.error_message();
    return v1::CONTAINER_UNKNOWN;
  }
  if (resp.status().state() == v1::CONTAINER_UNKNOWN) {
    ADD_FAILURE() << "unknown: " << resp.status().reason() << ": " << resp.status().message();
  }
  return resp.status().state();
}

class PackageInstallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CR_REQUIRE_ROOT();
    // dpkg -i on the host would install Cricket onto it: only the guest hack/vm booted for
    // systemd (v2vm.systemd=1 on its command line) may run this.
    if (ReadFile("/proc/cmdline").value_or("").find("v2vm.systemd=1") == std::string::npos) {
      GTEST_SKIP() << "installs a package: runs only in hack/vm's systemd guest "
                      "(ctest package_install_vm)";
    }
    auto env = RegistryFixtureEnv();
    ASSERT_TRUE(env.contains("REGISTRY")) << "needs the registry fixture (ctest runs it)";
    image_ = env["REGISTRY"] + "/test/busybox:latest";
    ASSERT_TRUE(fs::exists(CRICKET_DEB_PATH)) << CRICKET_DEB_PATH << ": run hack/package";
  }

  void TearDown() override {
    if (HasFailure()) {
      std::cerr << Sh("journalctl -u cricketd.service --no-pager | tail -n 60").out;
      // Which cricket processes and containers are left, and in which cgroup.
      std::cerr
          << Sh("ps -eo pid,ppid,cgroup:60,args | grep -E 'cricket|sleep' | grep -v grep").out;
    }
    // Whatever happened, the guest's package goes (the guest itself is thrown away anyway).
    Sh("systemctl stop cricketd.service; dpkg --purge cricket");
  }

  std::string image_;
  TempDir dir_{"pkg"};
};

TEST_F(PackageInstallTest, InstallStartRestartWithARunningContainerPurge) {
  const bool had_crictl_yaml = fs::exists("/etc/crictl.yaml");
  const std::string crictl_before = ReadFile("/etc/crictl.yaml").value_or("");
  // Every path the package holds, to check after the purge.
  Ran contents = Sh(std::string("dpkg-deb -c ") + CRICKET_DEB_PATH +
                    " | awk '{print $6}' | sed 's|^\\.||' | grep -v '/$'");
  ASSERT_EQ(contents.code, 0) << contents.out;

  Ran installed = Sh(std::string("dpkg -i ") + CRICKET_DEB_PATH);
  ASSERT_EQ(installed.code, 0) << installed.out;
  for (const char* path :
       {"/usr/bin/cricketd", "/usr/bin/cricket-shim", "/usr/bin/cricket-pause",
        "/usr/bin/cricket-fetch", "/usr/bin/cricket-runtime", "/usr/bin/cricketctl",
        "/lib/systemd/system/cricketd.service", "/etc/cricket/config.toml"}) {
    EXPECT_TRUE(fs::exists(path)) << path;
  }
  if (had_crictl_yaml) {
    EXPECT_EQ(ReadFile("/etc/crictl.yaml").value_or(""), crictl_before) << "ours replaced it";
  } else {
    EXPECT_NE(ReadFile("/etc/crictl.yaml")
                  .value_or("")
                  .find("runtime-endpoint: unix:///run/cricket/cricket.sock"),
              std::string::npos);
  }
  EXPECT_NE(Sh("dpkg-query -W -f='${Conffiles}' cricket").out.find("/etc/cricket/config.toml"),
            std::string::npos);

  // The operator's edit: the root on the guest's ext4 /tmp (its / is an overlayfs, which cannot
  // hold overlay snapshots). Also proves cricketd reads the packaged conffile.
  {
    std::ofstream config("/etc/cricket/config.toml", std::ios::app);
    config << "\nroot = \"" << dir_.Join("root") << "\"\n";
  }
  Ran started = Sh("systemctl start cricketd.service");
  ASSERT_EQ(started.code, 0) << started.out;
  EXPECT_EQ(Property("ActiveState"), "active");
  EXPECT_EQ(Property("Type"), "notify");
  EXPECT_EQ(Property("Delegate"), "yes");
  EXPECT_EQ(Property("KillMode"), "process");
  EXPECT_EQ(Property("OOMScoreAdjust"), "-999");
  // READY=1 came once the socket served: the very first call after `systemctl start` works.
  Ran version = Sh(std::string("cricketctl --socket ") + kSocket + " version");
  ASSERT_EQ(version.code, 0) << version.out;
  EXPECT_NE(version.out.find("RuntimeName:  cricket"), std::string::npos) << version.out;
  const std::string first_pid = Property("MainPID");

  auto runtime = v1::RuntimeService::NewStub(UnixChannel(kSocket));
  auto images = v1::ImageService::NewStub(UnixChannel(kSocket));
  grpc::Status status = PullImage(*images, image_);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::PodSandboxConfig pod_config = MakePodConfig("pkg", dir_.Join("logs"));
  std::string pod;
  status = RunPod(*runtime, pod_config, &pod);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::string ctr;
  status = CreateContainer(
      *runtime, pod, pod_config,
      MakeShellContainer("sleeper", image_, std::string("exec sleep ") + kSleepArg), &ctr);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(StartContainer(*runtime, ctr).ok());
  pid_t pid = 0;
  for (int i = 0; i < 100 && pid == 0; ++i) {
    pid = ContainerPid();
    ::usleep(100'000);
  }
  ASSERT_NE(pid, 0) << "the container's sleep never showed up";
  const std::string started_at = StartTime(pid);

  Ran restarted = Sh("systemctl restart cricketd.service");
  ASSERT_EQ(restarted.code, 0) << restarted.out;
  EXPECT_EQ(Property("ActiveState"), "active");
  EXPECT_NE(Property("MainPID"), first_pid) << "cricketd was not restarted";
  EXPECT_EQ(ContainerPid(), pid) << "the container did not survive the restart";
  EXPECT_EQ(StartTime(pid), started_at);
  runtime = v1::RuntimeService::NewStub(FreshChannel());
  EXPECT_EQ(State(*runtime, ctr), v1::CONTAINER_RUNNING);

  status = StopAndRemovePod(*runtime, pod);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ContainerPid(), 0);

  Ran purged = Sh("dpkg --purge cricket");
  ASSERT_EQ(purged.code, 0) << purged.out;
  std::istringstream paths(contents.out);
  for (std::string path; std::getline(paths, path);) {
    EXPECT_FALSE(fs::exists(path)) << path << " is left after the purge";
  }
  EXPECT_FALSE(fs::exists("/etc/cricket"));
  EXPECT_EQ(fs::exists("/etc/crictl.yaml"), had_crictl_yaml);
  EXPECT_FALSE(fs::exists("/etc/systemd/system/multi-user.target.wants/cricketd.service"));
  EXPECT_NE(Sh("systemctl cat cricketd.service").code, 0) << "the unit is still known";
  EXPECT_EQ(Property("LoadState"), "not-found");
  EXPECT_NE(Sh("pidof cricketd").code, 0) << "cricketd still runs";
}

}  // namespace
}  // namespace cricket::testing
