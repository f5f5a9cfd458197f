#include <gtest/gtest.h>

#include <filesystem>

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

TEST_F(HooksTest, ContainerNamespaceHooksAreRefused) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("true");
  spec.hooks.emplace().start_container = {Shell("true")};
  WriteSpec(spec);
  auto created = runtime_->Create("nshook", Opts());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code(), Code::kUnimplemented);
}

}  // namespace
}  // namespace cricket::oci::testing
