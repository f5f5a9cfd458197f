// The external-runtime backend against a scripted stand-in for runc (no root, no containers).

#include <sys/stat.h>

#include <csignal>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "common/syscalls.h"
#include "shim/container_runtime.h"
#include "tests/support/temp_dir.h"

namespace cricket::shim {
namespace {

// A "runtime" whose kill fails like runc's on a container that has just exited, and whose state
// says `status`. Its argv: --root R --log L --log-format json <command> ...
class ExternalRuntimeTest : public ::testing::Test {
 protected:
  std::unique_ptr<ContainerRuntime> Runtime(const std::string& status) {
    const std::string script = dir_.Join("fake-runc");
    std::ofstream(script) << "#!/bin/sh\n"
                             "log=$4; shift 6\n"
                             "case $1 in\n"
                             "kill) echo '{\"level\":\"error\",\"msg\":\"container not running\"}'"
                             " >> \"$log\"; exit 1 ;;\n"
                             "state) echo '{\"status\":\""
                          << status
                          << "\",\"pid\":0,\"bundle\":\"/nonexistent\"}' ;;\n"
                             "*) exit 2 ;;\n"
                             "esac\n";
    ::chmod(script.c_str(), 0755);
    return NewExternalRuntime(sys_, script, dir_.Join("root"), dir_.Join("work"), {});
  }

  LinuxSyscalls sys_;
  ::cricket::testing::TempDir dir_{"extrt"};
};

TEST_F(ExternalRuntimeTest, KillOfAContainerThatJustExitedIsFailedPrecondition) {
  for (bool all : {false, true}) {
    auto killed = Runtime("stopped")->Kill("c1", SIGKILL, all);
    ASSERT_FALSE(killed.ok());
    EXPECT_EQ(killed.error().code(), Code::kFailedPrecondition) << killed.error().ToString();
    EXPECT_NE(killed.error().message().find("container not running"), std::string::npos);
  }
}

TEST_F(ExternalRuntimeTest, KillThatFailsOnARunningContainerIsStillAnError) {
  auto killed = Runtime("running")->Kill("c1", SIGKILL, /*all=*/true);
  ASSERT_FALSE(killed.ok());
  EXPECT_EQ(killed.error().code(), Code::kInternal) << killed.error().ToString();
  EXPECT_NE(killed.error().message().find("kill: container not running"), std::string::npos);
}

}  // namespace
}  // namespace cricket::shim
