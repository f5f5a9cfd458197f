// The shim's binary is out of a container's reach (the CVE-2019-5736 class): cricketd starts
// every shim from one sealed handle (common/sealed_exe.h), so the code that runs in a
// container's namespaces before its execve (the shim's clones) is never the host's file. The
// test runs a COPY of cricketd and its helpers, so that a regression writes to the copy, never
// to the build's binaries. Root; images from the registry fixture.

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/integration/cri/pod_fixture.h"

namespace cricket {
namespace {

namespace v1 = ::runtime::v1;
namespace fs = std::filesystem;

class PodRuntimeBinaryTest : public ::cricket::testing::PodFixture {
 protected:
  void SetUp() override {
    if (::geteuid() == 0) {
      // FindHelperBinary looks beside cricketd: copy the four of them together.
      const fs::path build = fs::path(CRICKETD_PATH).parent_path().parent_path();
      fs::create_directories(dir_.Join("bin"));
      for (const fs::path& from : {fs::path(CRICKETD_PATH), build / "shim/cricket-shim",
                                   build / "shim/cricket-pause", build / "storage/cricket-fetch"}) {
        fs::copy_file(from, dir_.Join("bin/" + from.filename().string()));
      }
      cricketd_binary_ = dir_.Join("bin/cricketd");
      shim_copy_ = dir_.Join("bin/cricket-shim");
      shim_original_ = ReadFile(shim_copy_).value_or("");
    }
    PodFixture::SetUp();
  }

  // The pid of every shim of this cricketd (each writes <state>/.../shim.pid).
  std::vector<std::string> ShimPids() {
    std::vector<std::string> pids;
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(state(), ec)) {
      if (e.path().filename() == "shim.pid") {
        pids.push_back(ReadFile(e.path().string()).value_or(""));
      }
    }
    return pids;
  }

  std::string shim_copy_;
  std::string shim_original_;
};

// ExecSync of /proc/self/exe: the shim's exec child execs its own executable in the container,
// and the container's shell plays the attacker (see RuntimeBinaryTest in tests/integration/oci):
// it keeps that process's exe open, lets it exit and reopens it for appending. The shim binary,
// run with arguments it accepts, blocks opening its log, a fifo, until the watcher reads it.
TEST_F(PodRuntimeBinaryTest, ExecOfProcSelfExeThroughTheShimGivesNothingToWrite) {
  v1::PodSandboxConfig pod_config = PodConfig("exe");
  const std::string pod = RunPod(pod_config);
  ASSERT_FALSE(pod.empty());
  const std::string watcher = R"(
busybox mkdir -p /tmp/s
busybox mkfifo /tmp/s/shim.log
echo watching > /tmp/ready
while :; do
  for d in /proc/[0-9]*; do
    l=$(busybox readlink $d/exe 2>/dev/null) || continue
    case "$l" in *busybox* | /pause) continue ;; esac
    exec 3<$d/exe || continue
    echo "$l" > /tmp/link
    busybox cat /tmp/s/shim.log > /dev/null
    while busybox readlink $d/exe >/dev/null 2>&1; do :; done
    if (exec 4>>/proc/self/fd/3 && echo pwned >&4) 2>/tmp/err; then
      echo WROTE > /tmp/result
    else
      echo DENIED > /tmp/result
    fi
    exec busybox sleep 1000
  done
done)";
  std::string ctr;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "watch", watcher, &ctr).ok());
  ASSERT_TRUE(StartContainer(ctr).ok());
  v1::ExecSyncResponse out;
  ASSERT_TRUE(WaitFor(
      [&] { return Exec(ctr, "busybox cat /tmp/ready", &out).ok() && !out.stdout().empty(); }));

  // Every shim runs from the sealed handle, not from the file beside cricketd.
  const std::vector<std::string> shims = ShimPids();
  ASSERT_FALSE(shims.empty());
  for (const std::string& pid : shims) {
    std::error_code ec;
    EXPECT_NE(fs::read_symlink("/proc/" + pid + "/exe", ec).string(), shim_copy_) << "shim " << pid;
  }

  grpc::ClientContext ctx;
  v1::ExecSyncRequest req;
  req.set_container_id(ctr);
  for (const char* arg : {"/proc/self/exe", "--id", "x", "--bundle", "/nonexistent", "--state-dir",
                          "/tmp/s", "--log-path", "/tmp/l", "--runtime-root", "/tmp/r"}) {
    req.add_cmd(arg);
  }
  req.set_timeout(20);
  v1::ExecSyncResponse exec;
  ASSERT_TRUE(runtime_->ExecSync(&ctx, req, &exec).ok());
  ASSERT_TRUE(WaitFor(
      [&] { return Exec(ctr, "busybox cat /tmp/result", &out).ok() && !out.stdout().empty(); }))
      << "exec: " << exec.exit_code() << " " << exec.stdout() << exec.stderr() << "; watcher: "
      << (Exec(ctr, "busybox cat /tmp/link /tmp/err; busybox ls -l /tmp /tmp/s", &out).ok()
              ? out.stdout() + out.stderr()
              : "");
  EXPECT_EQ(out.stdout(), "DENIED\n");
  ASSERT_TRUE(Exec(ctr, "busybox cat /tmp/link /tmp/err", &out).ok());
  EXPECT_EQ(out.stdout().find(shim_copy_), std::string::npos)
      << "the container reached the host's shim binary: " << out.stdout();
  EXPECT_TRUE(ReadFile(shim_copy_).value_or("") == shim_original_)
      << "a container process wrote to " << shim_copy_;
}

}  // namespace
}  // namespace cricket
