// cricket-runtime driven like runc: through its command line.

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/integration/oci/container_fixture.h"
#include "tests/support/wait_until.h"

namespace cricket::oci::testing {
namespace {

class CliTest : public ContainerTest {
 protected:
  struct Output {
    int code = -1;
    std::string out;
  };
  // Output goes to a file, not a pipe: a created container's init keeps the CLI's stdio open
  // (as with runc), so reading a pipe to its end would wait for the container.
  Output Cli(const std::string& args) {
    std::string file = out_->Join("cli.out");
    std::string cmd = std::string(CRICKET_RUNTIME_BIN) + " --root " + root_->path() + " " + args +
                      " </dev/null >" + file + " 2>&1";
    Output result;
    int status = std::system(cmd.c_str());  // NOLINT(cert-env33-c): the test drives the CLI
    result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = ReadFile(file).value_or("");
    return result;
  }
};

TEST_F(CliTest, RunPassesTheExitCodeAndCleansUp) {
  CR_REQUIRE_ROOT();
  WriteSpec(MakeSpec("echo cli > /out/log; exit 7"));
  auto run = Cli("run --bundle " + bundle_->path() + " clirun");
  EXPECT_EQ(run.code, 7) << run.out;
  EXPECT_EQ(ReadOut("log"), "cli\n");
  EXPECT_FALSE(std::filesystem::exists(root_->Join("clirun")));
  EXPECT_FALSE(CgroupExists("memory"));
}

TEST_F(CliTest, CreateStartStateKillDelete) {
  CR_REQUIRE_ROOT();
  WriteSpec(MakeSpec("sleep 100"));
  std::string pid_file = out_->Join("pid");
  auto created = Cli("create --bundle " + bundle_->path() + " --pid-file " + pid_file + " cli1");
  ASSERT_EQ(created.code, 0) << created.out;
  EXPECT_FALSE(ReadOut("pid").empty());
  auto state = Cli("state cli1");
  EXPECT_NE(state.out.find("\"status\": \"created\""), std::string::npos) << state.out;
  EXPECT_NE(state.out.find("\"pid\": " + ReadOut("pid")), std::string::npos) << state.out;
  ASSERT_EQ(Cli("start cli1").code, 0);
  EXPECT_NE(Cli("state cli1").out.find("\"status\": \"running\""), std::string::npos);
  EXPECT_NE(Cli("list").out.find("cli1"), std::string::npos);
  EXPECT_EQ(Cli("ps --format json cli1").out, "[" + ReadOut("pid") + "]\n");
  ASSERT_TRUE(WriteFileAtomic(out_->Join("res.json"), R"({"pids": {"limit": 7}})", 0644).ok());
  auto updated = Cli("update --resources " + out_->Join("res.json") + " cli1");
  EXPECT_EQ(updated.code, 0) << updated.out;
  EXPECT_EQ(Control("pids", "pids.max", "pids.max"), "7");
  auto refused = Cli("delete cli1");
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.out.find("is running"), std::string::npos) << refused.out;
  ASSERT_EQ(Cli("kill cli1 KILL").code, 0);
  ::cricket::testing::WaitUntil(
      [&] { return Cli("state cli1").out.find("stopped") != std::string::npos; });
  EXPECT_NE(Cli("state cli1").out.find("\"status\": \"stopped\""), std::string::npos);
  EXPECT_EQ(Cli("delete cli1").code, 0);
  EXPECT_EQ(Cli("delete --force cli1").code, 0);  // unknown with --force is fine
  EXPECT_FALSE(CgroupExists("pids"));
}

TEST_F(CliTest, BadConfigExitsNonZeroWithTheFieldAndLogsJson) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("true");
  spec.oci_version = "2.0.0";
  WriteSpec(spec);
  std::string log = out_->Join("runtime.log");
  auto created = Cli("--log " + log + " --log-format json create --bundle " + bundle_->path() + " bad1");
  EXPECT_EQ(created.code, 1);
  EXPECT_NE(created.out.find("ociVersion: unsupported major version 2"), std::string::npos) << created.out;
  auto logged = ReadFile(log);
  ASSERT_TRUE(logged.ok());
  EXPECT_NE(logged->find("\"level\":\"error\""), std::string::npos) << *logged;
  EXPECT_FALSE(std::filesystem::exists(root_->Join("bad1")));
}

TEST_F(CliTest, ExecWithCommandLine) {
  CR_REQUIRE_ROOT();
  WriteSpec(MakeSpec("sleep 100"));
  ASSERT_EQ(Cli("run -d --bundle " + bundle_->path() + " cliexec").code, 0);
  auto exec = Cli("exec cliexec sh -c 'echo $$; exit 3'");
  EXPECT_EQ(exec.code, 3) << exec.out;
  EXPECT_NE(exec.out, "1\n");
  EXPECT_EQ(Cli("delete --force cliexec").code, 0);
}

TEST_F(CliTest, RunWithATerminalAndNoConsoleSocketProxiesThePty) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("tty; echo over-the-pty");
  spec.process->terminal = true;
  WriteSpec(spec);
  auto run = Cli("run --bundle " + bundle_->path() + " clitty");
  EXPECT_EQ(run.code, 0) << run.out;
  EXPECT_NE(run.out.find("/dev/pts/"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("over-the-pty\r\n"), std::string::npos) << run.out;
}

TEST_F(CliTest, KillAllReachesEveryProcess) {
  CR_REQUIRE_ROOT();
  WriteSpec(MakeSpec("sleep 100 & sleep 100 & wait"));
  ASSERT_EQ(Cli("run -d --bundle " + bundle_->path() + " killall").code, 0);
  // All three (sh and its two sleeps) are in the cgroup before the kill.
  ASSERT_TRUE(::cricket::testing::WaitUntil([&] {
    const std::string ps = Cli("ps --format json killall").out;
    return std::count(ps.begin(), ps.end(), ',') == 2;
  })) << Cli("ps --format json killall").out;
  auto killed = Cli("kill --all killall KILL");
  ASSERT_EQ(killed.code, 0) << killed.out;
  ::cricket::testing::WaitUntil([&] { return Cli("ps --format json killall").out == "[]\n"; });
  EXPECT_EQ(Cli("ps --format json killall").out, "[]\n");
  EXPECT_EQ(Cli("delete killall").code, 0);
}

TEST_F(CliTest, SpecWritesAValidDefault) {
  CR_REQUIRE_ROOT();
  cricket::testing::TempDir dir("spec");
  auto spec = Cli("spec --bundle " + dir.path());
  EXPECT_EQ(spec.code, 0) << spec.out;
  EXPECT_TRUE(std::filesystem::exists(dir.Join("config.json")));
  EXPECT_EQ(Cli("spec --bundle " + dir.path()).code, 1);  // refuses to overwrite
}

}  // namespace
}  // namespace cricket::oci::testing
