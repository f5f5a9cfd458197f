#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "common/files.h"
#include "tests/integration/oci/container_fixture.h"

namespace cricket::oci::testing {
namespace {

class HooksTest : public ContainerTest {
 protected:
  Hook Shell(const std::string& script, std::optional<int> timeout = std::nullopt) {
    return Hook{"/bin/sh", {"sh", "-c", script}, {"PATH=/usr/bin:/bin"}, timeout};
  }
};

TEST_F(HooksTest, RuntimeHooksGetTheStateOnStdin) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("true");
  Hooks& hooks = spec.hooks.emplace();
  hooks.prestart = {Shell("cat > " + out_->Join("prestart"))};
  hooks.create_runtime = {Shell("cat > " + out_->Join("createRuntime"))};
  hooks.poststart = {Shell("cat > " + out_->Join("poststart"))};
  hooks.poststop = {Shell("cat > " + out_->Join("poststop"))};
  auto result = Run(spec, "hooked");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(ReadOut("prestart").find("\"status\": \"creating\""), std::string::npos) << ReadOut("prestart");
  EXPECT_NE(ReadOut("createRuntime").find("\"id\": \"hooked\""), std::string::npos);
  EXPECT_NE(ReadOut("poststart").find("\"status\": \"running\""), std::string::npos);
  EXPECT_NE(ReadOut("poststop").find("\"status\": \"stopped\""), std::string::npos);
}

TEST_F(HooksTest, FailingCreateRuntimeHookFailsCreateAndLeavesNothing) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("true");
  spec.hooks.emplace().create_runtime = {Shell("exit 3")};
  WriteSpec(spec);
  auto created = runtime_->Create("badhook", Opts());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().message(), "hooks.createRuntime[0] /bin/sh: exited with status 3");
  EXPECT_FALSE(std::filesystem::exists(root_->Join("badhook")));
  EXPECT_FALSE(CgroupExists("memory"));
}

TEST_F(HooksTest, HookTimeoutKillsIt) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("true");
  spec.hooks.emplace().prestart = {Shell("sleep 5", 1)};
  WriteSpec(spec);
  auto created = runtime_->Create("slowhook", Opts());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code(), Code::kDeadlineExceeded);
}

// createContainer runs in the container's namespaces before pivot_root: it sees the container's
// hostname and mount namespace (a tmpfs only the container has), and resolves its path in the
// runtime's tree. startContainer runs in the container after `start`, before the process.
TEST_F(HooksTest, ContainerHooksRunInTheContainer) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("cat /scratch/mark > /out/log; readlink /proc/self/ns/mnt > /out/ctr-mnt; "
                       "cat /out/started >> /out/log");
  spec.hostname = "hooked-host";
  Mount scratch;
  scratch.destination = "/scratch";
  scratch.type = "tmpfs";
  scratch.source = "tmpfs";
  scratch.options = {"size=16k"};
  spec.mounts.push_back(scratch);
  Hooks& hooks = spec.hooks.emplace();
  hooks.create_runtime = {Shell("echo runtime > " + out_->Join("order"))};
  hooks.create_container = {Shell(
      "cat > " + out_->Join("cc-state") + "; hostname > " + out_->Join("cc-host") +
      "; readlink /proc/self/ns/mnt > " + out_->Join("cc-mnt") + "; echo created > " + rootfs_ +
      "/scratch/mark; cat " + out_->Join("order") + " >> " + out_->Join("cc-order"))};
  hooks.start_container = {Hook{"/bin/sh",
                                {"sh", "-c", "cat > /out/sc-state; hostname > /out/started"},
                                {"PATH=/bin"},
                                std::nullopt}};
  auto result = Run(spec, "inhooks");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "created\nhooked-host\n");
  EXPECT_EQ(ReadOut("cc-host"), "hooked-host\n");
  EXPECT_EQ(ReadOut("cc-mnt"), ReadOut("ctr-mnt"));
  EXPECT_NE(ReadOut("cc-mnt"), "");
  EXPECT_EQ(ReadOut("cc-order"), "runtime\n");  // after createRuntime
  EXPECT_NE(ReadOut("cc-state").find("\"status\": \"creating\""), std::string::npos)
      << ReadOut("cc-state");
  EXPECT_NE(ReadOut("sc-state").find("\"status\": \"created\""), std::string::npos)
      << ReadOut("sc-state");
  EXPECT_NE(ReadOut("sc-state").find("\"id\": \"inhooks\""), std::string::npos);
}

// Whether a process whose command line holds `needle` runs.
bool ProcessRuns(const std::string& needle) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string cmdline = ReadFile(entry.path().string() + "/cmdline").value_or("");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST_F(HooksTest, HangingCreateContainerHookIsKilledAndCreateFails) {
  CR_REQUIRE_ROOT();
  const std::string nap = "30." + std::to_string(::getpid());  // names this test's sleep
  Spec spec = MakeSpec("true");
  spec.hooks.emplace().create_container = {Shell("exec sleep " + nap, 1)};
  WriteSpec(spec);
  auto created = runtime_->Create("hangs", Opts());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code(), Code::kDeadlineExceeded);
  EXPECT_EQ(created.error().message(), "hooks.createContainer[0] /bin/sh: timed out after 1 s");
  EXPECT_FALSE(std::filesystem::exists(root_->Join("hangs")));
  EXPECT_FALSE(CgroupExists("pids"));
  EXPECT_FALSE(ProcessRuns("sleep " + nap)) << "the hook still runs";
}

TEST_F(HooksTest, FailingCreateContainerHookNamesIt) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("true");
  spec.hooks.emplace().create_container = {Shell("true"), Shell("exit 4")};
  WriteSpec(spec);
  auto created = runtime_->Create("fails", Opts());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().message(), "hooks.createContainer[1] /bin/sh: exited with status 4");
  spec.hooks->create_container = {Hook{"/no/such/hook", {}, {}, std::nullopt}};
  WriteSpec(spec);
  created = runtime_->Create("fails", Opts());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code(), Code::kNotFound) << created.error().ToString();
  EXPECT_FALSE(std::filesystem::exists(root_->Join("fails")));
}

TEST_F(HooksTest, FailingStartContainerHookStopsTheContainer) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("echo ran > /out/log");
  spec.hooks.emplace().start_container = {Hook{"/bin/sh", {"sh", "-c", "exit 2"}, {}, std::nullopt}};
  WriteSpec(spec);
  auto created = runtime_->Create("scfail", Opts());
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  ASSERT_TRUE(runtime_->Start("scfail").ok());
  EXPECT_EQ(runtime_->Wait(created->pid).value_or(-1), 1);
  EXPECT_EQ(ReadOut("log"), "");
}

}  // namespace
}  // namespace cricket::oci::testing
