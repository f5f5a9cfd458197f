// Images whose /etc/passwd is hostile to a runtime that reads it through a host path (issue 13,
// item 4): a symlink to /dev/zero, to a host file (absolute and through ../), a FIFO, a
// character device. CreateContainer with run_as_username must answer promptly with a precise
// error (or an unknown user), keep cricketd small and leave nothing behind. Root; the images
// come from the registry fixture (hack/test-registry/make-images.py, hostile_images).

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/integration/cri/pod_fixture.h"

namespace cricket {
namespace {

using namespace std::chrono_literals;
namespace v1 = ::runtime::v1;

// A field ("VmHWM", "VmSize") of /proc/<pid>/status in bytes; 0 when absent.
uint64_t StatusBytes(pid_t pid, const std::string& field) {
  std::string status = ReadFile("/proc/" + std::to_string(pid) + "/status").value_or("");
  size_t at = status.find("\n" + field + ":");
  return at == std::string::npos ? 0 : std::stoull(status.substr(at + field.size() + 2)) * 1024;
}

class HostileImageTest : public ::cricket::testing::PodFixture {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    auto env = ::cricket::testing::RegistryFixtureEnv();
    registry_ = env["REGISTRY"];
    host_passwd_ = env["HOSTILE_HOST_PASSWD"];
    ASSERT_FALSE(host_passwd_.empty()) << "the registry fixture has no hostile images";
    pod_config_ = PodConfig("hostile");
    pod_ = RunPod(pod_config_);
    ASSERT_FALSE(pod_.empty());
    // A cricketd that reads /dev/zero would grow until the node's OOM killer: a run against
    // such a build fails in a second against this cap instead of eating the machine. (Set after
    // the pod's infra shim started, which would inherit it.)
    const pid_t pid = daemon_->pid();
    const rlim_t cap = StatusBytes(pid, "VmSize") + (rlim_t{768} << 20);
    rlimit limit{cap, cap};
    ASSERT_EQ(::prlimit(pid, RLIMIT_AS, &limit, nullptr), 0);
  }

  // CreateContainer from test/hostile:<tag> as `username`; checks that it answered within a
  // few seconds, that cricketd's peak RSS did not jump and that nothing of the container is
  // left. Returns its status.
  grpc::Status CreateAs(const std::string& tag, const std::string& username) {
    const std::string image = registry_ + "/test/hostile:" + tag;
    grpc::Status pulled = ::cricket::testing::PullImage(*ImageStub(), image);
    EXPECT_TRUE(pulled.ok()) << pulled.error_message();
    const uint64_t peak_before = StatusBytes(daemon_->pid(), "VmHWM");

    v1::CreateContainerRequest req;
    req.set_pod_sandbox_id(pod_);
    *req.mutable_sandbox_config() = pod_config_;
    v1::ContainerConfig& c = *req.mutable_config();
    c.mutable_metadata()->set_name(tag);
    c.mutable_image()->set_image(image);
    c.add_command("/bin/busybox");
    c.add_args("true");
    c.set_log_path(tag + ".log");
    c.mutable_linux()->mutable_security_context()->set_run_as_username(username);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 60s);
    v1::CreateContainerResponse resp;
    const auto start = std::chrono::steady_clock::now();
    grpc::Status status = runtime_->CreateContainer(&ctx, req, &resp);
    const auto took = std::chrono::steady_clock::now() - start;
    if (status.ok()) {
      created_uid_ = Status(resp.container_id()).user().linux().uid();
    }
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      UnblockFifoReaders();  // so teardown is not stuck behind the hung call
    }

    EXPECT_LT(took, 30s) << "CreateContainer took "
                         << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                         << " ms: " << status.error_message();
    const uint64_t peak_after = StatusBytes(daemon_->pid(), "VmHWM");
    EXPECT_LT(peak_after, peak_before + (uint64_t{32} << 20))
        << "cricketd's peak RSS went from " << (peak_before >> 20) << " to " << (peak_after >> 20)
        << " MiB";
    if (!status.ok()) {
      EXPECT_EQ(::cricket::testing::CountContainers(*runtime_), 0)
          << "a refused container is listed";
      EXPECT_EQ(Entries(state() + "/containers"), 0u) << "its bundle was left";
      EXPECT_EQ(Entries(root() + "/snapshots/containers"), 0u) << "its snapshot was left";
      EXPECT_EQ(ReadFile("/proc/self/mountinfo").value_or("").find(state() + "/containers/"),
                std::string::npos)
          << "its rootfs is still mounted";
    }
    return status;
  }

  // A reader blocked opening a FIFO /etc/passwd (a vulnerable build) gets a writer that closes
  // at once: its open returns and its read sees end of file.
  void UnblockFifoReaders() {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(state() + "/containers", ec)) {
      const std::string fifo = e.path().string() + "/rootfs/etc/passwd";
      // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
      int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd >= 0) {
        ::close(fd);
      }
    }
  }

  std::string registry_;
  std::string host_passwd_;
  v1::PodSandboxConfig pod_config_;
  std::string pod_;
  int64_t created_uid_ = -1;  // of the last container CreateAs made
};

// /etc/passwd -> /dev/zero resolves to the rootfs's own /dev/zero, which the image lacks: the
// user is unknown. Read on the host, it drove cricketd to 8.4 GB before std::bad_alloc.
TEST_F(HostileImageTest, PasswdLinkedToDevZero) {
  grpc::Status status = CreateAs("zero", "root");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(status.error_message(), "user \"root\" is not in the image's /etc/passwd");
}

// A character device 1:5 (/dev/zero) as /etc/passwd: never opened, refused as not a file.
TEST_F(HostileImageTest, PasswdThatIsADevice) {
  grpc::Status status = CreateAs("device", "root");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_NE(status.error_message().find("/etc/passwd in "), std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("a character device, not a regular file"),
            std::string::npos)
      << status.error_message();
}

// A FIFO as /etc/passwd: opened on the host it blocked CreateContainer for good.
TEST_F(HostileImageTest, PasswdThatIsAFifo) {
  grpc::Status status = CreateAs("fifo", "root");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_NE(status.error_message().find("/etc/passwd in "), std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("a fifo, not a regular file"), std::string::npos)
      << status.error_message();
}

// /etc/passwd -> <host file naming "marker", uid 4242>, absolute and through "../": the host's
// file is not the image's, so "marker" is unknown and no container runs as 4242.
TEST_F(HostileImageTest, PasswdLinkedToAHostFile) {
  ASSERT_NE(ReadFile(host_passwd_).value_or("").find("marker:x:4242:"), std::string::npos)
      << host_passwd_ << " should hold the marker user";
  for (const char* tag : {"host", "dotdot"}) {
    grpc::Status status = CreateAs(tag, "marker");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << tag << ": created, running as uid " << created_uid_ << " (the host file's is 4242)";
    EXPECT_EQ(status.error_message(), "user \"marker\" is not in the image's /etc/passwd") << tag;
  }
}

}  // namespace
}  // namespace cricket
