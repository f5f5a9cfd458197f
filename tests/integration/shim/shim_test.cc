// cricket-shim on the real kernel: one busybox container through its whole life.

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "common/files.h"
#include "oci/spec_default.h"
#include "oci/spec_json.h"
#include "shim/shim_client.h"
#include "tests/support/busybox_rootfs.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_until.h"

namespace cricket::shim {
namespace {

using namespace std::chrono_literals;
using ::cricket::testing::TempDir;
using ::cricket::testing::WaitUntil;

class ShimTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CR_REQUIRE_ROOT();
    ASSERT_TRUE(::cricket::testing::MakeBusyboxRootfs(dir_.Join("bundle/rootfs")));
    options_.id = "shimtest" + std::to_string(::getpid());
    options_.bundle = dir_.Join("bundle");
    options_.state_dir = dir_.Join("shim");
    options_.log_path = dir_.Join("ctr.log");
    options_.runtime_root = dir_.Join("runtime");
  }

  void TearDown() override {
    // Stop a shim the test left running, by the pid it recorded.
    auto pid = ReadFile(options_.state_dir + "/shim.pid");
    if (pid.ok() && std::filesystem::exists(options_.control_socket())) {
      ShimClient client(options_.control_socket());
      if (!client.Delete(true).ok()) {
        ::kill(std::stoi(*pid), SIGKILL);
      }
    }
  }

  void WriteSpec(const std::vector<std::string>& args, bool terminal = false,
                 const std::string& cwd = "/") {
    oci::Spec spec = oci::DefaultSpec();
    spec.root->path = "rootfs";
    spec.process->args = args;
    spec.process->cwd = cwd;
    spec.process->env = {"PATH=/bin"};
    spec.process->terminal = terminal;
    spec.linux->cgroups_path = "/crtest-" + std::to_string(::getpid()) + "-shim";
    ASSERT_TRUE(WriteFileAtomic(dir_.Join("bundle/config.json"), oci::SpecToJson(spec), 0644).ok());
  }

  std::string Log() { return ReadFile(options_.log_path).value_or(""); }

  bool WaitForLog(const std::string& needle) {
    return WaitUntil([&] { return Log().find(needle) != std::string::npos; });
  }

  oci::Process Exec(std::vector<std::string> args) {
    oci::Process p;
    p.args = std::move(args);
    p.env = {"PATH=/bin"};
    p.cwd = "/";
    return p;
  }

  TempDir dir_{"shim"};
  ShimOptions options_;
};

TEST_F(ShimTest, WholeLifeOfAContainer) {
  // pid 1 of its namespace ignores SIGTERM unless it handles it: the script does.
  WriteSpec({"sh", "-c",
             "trap 'exit 143' TERM; echo hello; echo oops >&2; while true; do sleep 0.1; done"});
  auto launched = LaunchShim(CRICKET_SHIM_BIN, options_, 30s);
  ASSERT_TRUE(launched.ok()) << launched.error().ToString();
  ShimClient shim(options_.control_socket());

  auto status = shim.Status();
  ASSERT_TRUE(status.ok()) << status.error().ToString();
  EXPECT_EQ(status->state, "created");
  ASSERT_TRUE(shim.Start().ok());
  EXPECT_EQ(shim.Status()->state, "running");

  // Output lands in the CRI log, each stream tagged.
  ASSERT_TRUE(WaitForLog(" stdout F hello\n")) << Log();
  ASSERT_TRUE(WaitForLog(" stderr F oops\n")) << Log();

  // Exec: output, exit code, timeout that kills.
  auto hi = shim.ExecSync(Exec({"echo", "hi"}), 60s);
  ASSERT_TRUE(hi.ok()) << hi.error().ToString();
  EXPECT_EQ(hi->out, "hi\n");
  EXPECT_EQ(hi->exit_code, 0);
  auto three = shim.ExecSync(Exec({"sh", "-c", "echo e >&2; exit 3"}), 60s);
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(three->exit_code, 3);
  EXPECT_EQ(three->err, "e\n");
  auto slow = shim.ExecSync(Exec({"sleep", "30"}), 300ms);
  ASSERT_TRUE(slow.ok());
  EXPECT_TRUE(slow->timed_out);
  // The timed-out exec is killed; wait for it to be gone rather than for a while.
  std::string ps_out;
  EXPECT_TRUE(WaitUntil([&] {
    auto ps = shim.ExecSync(Exec({"ps"}), 60s);
    ps_out = ps.ok() ? ps->out : ps.error().ToString();
    return ps.ok() && ps_out.find("sleep 30") == std::string::npos;
  })) << ps_out;

  // Log rotation: the file is renamed away and reopened.
  ASSERT_EQ(::rename(options_.log_path.c_str(), (options_.log_path + ".1").c_str()), 0);
  ASSERT_TRUE(shim.ReopenLog().ok());
  EXPECT_TRUE(std::filesystem::exists(options_.log_path));

  // Stop: SIGTERM, the exit is recorded on disk and reported.
  ASSERT_TRUE(shim.Kill(SIGTERM, false).ok());
  auto code = shim.Wait(60s);
  ASSERT_TRUE(code.ok()) << code.error().ToString();
  EXPECT_EQ(*code, 128 + SIGTERM);
  auto record = ReadExitRecord(options_.state_dir);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->exit_code, 143);  // the trap's exit, not a signal death
  EXPECT_EQ(record->signal, 0);
  EXPECT_GT(record->finished_at_ns, record->started_at_ns);
  status = shim.Status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state, "stopped");
  ASSERT_TRUE(status->exit.has_value());
  EXPECT_EQ(status->exit->exit_code, 143);
  EXPECT_EQ(shim.Kill(SIGKILL, false).error().code(), Code::kFailedPrecondition);

  // Delete: the container is gone and the shim exits.
  ASSERT_TRUE(shim.Delete(false).ok());
  WaitUntil([&] { return !shim.Status().ok(); });
  EXPECT_EQ(shim.Status().error().code(), Code::kUnavailable);
  EXPECT_FALSE(std::filesystem::exists(options_.runtime_root + "/" + options_.id));
}

// A runtime handler configured with an external OCI runtime: the same life through runc's
// command line (Debian's runc, which CI installs for hack/bench/runtime).
TEST_F(ShimTest, WholeLifeThroughAnExternalRuntime) {
  const char* runc = "/usr/sbin/runc";
  if (::access(runc, X_OK) != 0) {
    if (std::getenv("CI") != nullptr) {
      FAIL() << "runc is missing; hack/packages.d/oci.list installs it";
    }
    GTEST_SKIP() << "needs Debian's runc";
  }
  options_.runtime_binary = runc;
  WriteSpec({"sh", "-c", "trap 'exit 143' TERM; echo hello; while true; do sleep 0.1; done"});
  auto launched = LaunchShim(CRICKET_SHIM_BIN, options_, 30s);
  ASSERT_TRUE(launched.ok()) << launched.error().ToString();
  ShimClient shim(options_.control_socket());
  EXPECT_EQ(shim.Status()->state, "created");
  ASSERT_TRUE(shim.Start().ok());
  EXPECT_EQ(shim.Status()->state, "running");
  ASSERT_TRUE(WaitForLog(" stdout F hello\n")) << Log();
  // runc keeps its own state: this is not Cricket's runtime at work.
  EXPECT_TRUE(std::filesystem::exists(options_.runtime_root + "/" + options_.id + "/state.json"));

  auto three = shim.ExecSync(Exec({"sh", "-c", "echo out; echo e >&2; exit 3"}), 60s);
  ASSERT_TRUE(three.ok()) << three.error().ToString();
  EXPECT_EQ(three->out, "out\n");
  EXPECT_EQ(three->err, "e\n");
  EXPECT_EQ(three->exit_code, 3);

  ASSERT_TRUE(shim.Kill(SIGTERM, false).ok());
  auto code = shim.Wait(60s);
  ASSERT_TRUE(code.ok()) << code.error().ToString();
  EXPECT_EQ(*code, 143);
  ASSERT_TRUE(shim.Delete(false).ok());
  WaitUntil([&] { return !shim.Status().ok(); });
  EXPECT_FALSE(std::filesystem::exists(options_.runtime_root + "/" + options_.id));
}

TEST_F(ShimTest, AnExternalRuntimesErrorIsReported) {
  options_.runtime_binary = "/bin/false";
  WriteSpec({"true"});
  auto launched = LaunchShim(CRICKET_SHIM_BIN, options_, 30s);
  ASSERT_FALSE(launched.ok());
  EXPECT_NE(launched.error().message().find("/bin/false create"), std::string::npos)
      << launched.error().ToString();
}

TEST_F(ShimTest, ExitCodeOfAContainerThatEndsOnItsOwn) {
  WriteSpec({"sh", "-c", "echo done; exit 7"});
  ASSERT_TRUE(LaunchShim(CRICKET_SHIM_BIN, options_, 30s).ok());
  ShimClient shim(options_.control_socket());
  ASSERT_TRUE(shim.Start().ok());
  auto code = shim.Wait(60s);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 7);
  EXPECT_NE(Log().find(" stdout F done\n"), std::string::npos);
  EXPECT_EQ(ReadExitRecord(options_.state_dir)->exit_code, 7);
  EXPECT_TRUE(shim.Delete(false).ok());
}

TEST_F(ShimTest, SigkillIsRecordedAsSignalDeath) {
  WriteSpec({"sleep", "100"});
  ASSERT_TRUE(LaunchShim(CRICKET_SHIM_BIN, options_, 30s).ok());
  ShimClient shim(options_.control_socket());
  ASSERT_TRUE(shim.Start().ok());
  ASSERT_TRUE(shim.Kill(SIGKILL, false).ok());
  auto code = shim.Wait(60s);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 137);
  auto record = ReadExitRecord(options_.state_dir);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->signal, SIGKILL);
  EXPECT_FALSE(record->oom_killed);
  EXPECT_TRUE(shim.Delete(false).ok());
}

TEST_F(ShimTest, BadBundleIsReportedAndLeavesNoShim) {
  WriteSpec({});  // no process args
  auto launched = LaunchShim(CRICKET_SHIM_BIN, options_, 30s);
  ASSERT_FALSE(launched.ok());
  EXPECT_EQ(launched.error().code(), Code::kInvalidArgument) << launched.error().ToString();
  EXPECT_NE(launched.error().message().find("process.args"), std::string::npos)
      << launched.error().message();
  EXPECT_FALSE(ShimClient(options_.control_socket()).Status().ok());
  EXPECT_FALSE(std::filesystem::exists(options_.runtime_root + "/" + options_.id));
}

// Issue 13 items 1 and 7: the runtime runs in the shim's process, which holds its control
// socket, log files and pipes. None of them reaches the container: its first instruction sees
// 0-2 only, and a cwd through /proc/self/fd/N is refused, for the container and for exec.
TEST_F(ShimTest, ContainerStartsWithStdioOnly) {
  WriteSpec({"ls", "/proc/self/fd"});
  ASSERT_TRUE(LaunchShim(CRICKET_SHIM_BIN, options_, 30s).ok());
  ShimClient shim(options_.control_socket());
  ASSERT_TRUE(shim.Start().ok());
  ASSERT_TRUE(shim.Wait(60s).ok());
  std::string listed;
  std::string log = Log();
  for (size_t at = log.find(" stdout F "); at != std::string::npos;
       at = log.find(" stdout F ", at + 1)) {
    size_t start = at + std::strlen(" stdout F ");
    listed += log.substr(start, log.find('\n', start) - start) + " ";
  }
  EXPECT_EQ(listed, "0 1 2 3 ") << log;  // 3: the directory ls reads
  EXPECT_TRUE(shim.Delete(false).ok());
}

TEST_F(ShimTest, CwdThroughAFdOfTheShimIsRefused) {
  for (int fd = 3; fd <= 64; ++fd) {
    std::string cwd = "/proc/self/fd/" + std::to_string(fd);
    WriteSpec({"ls", "../../../../../../../../.."}, false, cwd);
    auto launched = LaunchShim(CRICKET_SHIM_BIN, options_, 30s);
    ASSERT_FALSE(launched.ok()) << cwd << " was accepted; log: " << Log();
    EXPECT_NE(launched.error().message().find(cwd), std::string::npos)
        << launched.error().ToString();
  }
  WriteSpec({"sleep", "100"});
  ASSERT_TRUE(LaunchShim(CRICKET_SHIM_BIN, options_, 30s).ok());
  ShimClient shim(options_.control_socket());
  ASSERT_TRUE(shim.Start().ok());
  for (int fd = 3; fd <= 64; ++fd) {
    oci::Process p = Exec({"ls", "../../../../../../../../.."});
    p.cwd = "/proc/self/fd/" + std::to_string(fd);
    auto exec = shim.ExecSync(p, 60s);
    ASSERT_FALSE(exec.ok()) << p.cwd << " was accepted: " << exec->out;
    EXPECT_NE(exec.error().message().find(p.cwd), std::string::npos) << exec.error().ToString();
  }
  ASSERT_TRUE(shim.Kill(SIGKILL, false).ok());
  ASSERT_TRUE(shim.Wait(60s).ok());
  EXPECT_TRUE(shim.Delete(false).ok());
}

TEST_F(ShimTest, MalformedControlRequestsDoNotHarmTheContainer) {
  WriteSpec({"sleep", "100"});
  ASSERT_TRUE(LaunchShim(CRICKET_SHIM_BIN, options_, 30s).ok());
  ShimClient shim(options_.control_socket());
  ASSERT_TRUE(shim.Start().ok());
  {
    auto conn = shim.Connect();
    ASSERT_TRUE(conn.ok());
    ASSERT_EQ(::write(conn->get(), "\0\0\0\x05{bad", 8), 8);
  }
  EXPECT_EQ(shim.Call({{"op", "explode"}}).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(shim.Call({{"op", "kill"}, {"signal", "TERM"}}).error().code(),
            Code::kInvalidArgument);
  // Fields of another type made json::value() throw, which ended the shim and orphaned its
  // container: each is now a precise error and the shim serves on.
  using nlohmann::json;
  const std::vector<std::pair<json, std::string>> bad = {
      {{{"op", 5}}, "shim control: op must be a string"},
      {{{"op", "kill"}, {"signal", 9}, {"all", "yes"}}, "kill: all must be a boolean"},
      {{{"op", "kill"}, {"signal", 1e300}}, "kill: signal must be an integer in 1..64"},
      {{{"op", "attach"}, {"stdin", 1}}, "attach: stdin must be a boolean"},
      {{{"op", "delete"}, {"force", "no"}}, "delete: force must be a boolean"},
  };
  for (const auto& [request, message] : bad) {
    auto reply = shim.Call(request);
    ASSERT_FALSE(reply.ok()) << request;
    EXPECT_EQ(reply.error().code(), Code::kInvalidArgument) << request;
    EXPECT_EQ(reply.error().message(), message) << request;
  }
  EXPECT_EQ(shim.Status()->state, "running");
  EXPECT_TRUE(shim.Delete(true).ok());
}

}  // namespace
}  // namespace cricket::shim
