#pragma once

// Shared set-up of the oci integration tests: a busybox rootfs, a bundle whose config.json the
// test edits, a runtime root and a host directory bind-mounted at /out for results. Everything
// lives in TempDirs named crtest-<pid>-…; cgroups are /crtest-<pid>-<test>. TearDown deletes
// whatever container the test left behind, so a failing test still cleans up.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/syscalls.h"
#include "oci/cgroup_detect.h"
#include "oci/runtime.h"
#include "oci/spec.h"
#include "tests/support/temp_dir.h"

namespace cricket::oci::testing {

class ContainerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The default spec with busybox, /out bound, cgroup crtest-<pid>-<test>, running `script`
  // with sh -c.
  Spec MakeSpec(const std::string& script);
  void WriteSpec(const Spec& spec);
  // Create options for the test's bundle.
  CreateOptions Opts() const {
    CreateOptions options;
    options.bundle = bundle_->path();
    return options;
  }

  struct RunResult {
    int exit_code = -1;
    std::string out;  // what the script wrote to /out/log
  };
  // create + start + wait + delete; fails the test on a runtime error.
  RunResult Run(const Spec& spec, const std::string& id = "c1");

  std::string ReadOut(const std::string& name) const;
  // Start returns once the init is released; this waits until it has exec'd the container's
  // program (its executable is no longer this test binary).
  static void WaitUntilExecd(pid_t pid);
  std::string CgroupName() const;
  // The container's cgroup directory holding `controller` (v1), or its one directory (v2).
  std::string CgroupDir(const std::string& controller) const;
  bool CgroupExists(const std::string& controller) const;
  // First line of a control file, named per mode: Control("memory", "memory.limit_in_bytes",
  // "memory.max").
  std::string Control(const std::string& controller, const std::string& v1_file,
                      const std::string& v2_file) const;
  bool v2() const { return cgroups_.mode == CgroupMode::kV2; }

  LinuxSyscalls sys_;
  std::unique_ptr<cricket::testing::TempDir> bundle_;
  std::unique_ptr<cricket::testing::TempDir> out_;
  std::unique_ptr<cricket::testing::TempDir> root_;
  std::unique_ptr<Runtime> runtime_;
  std::string rootfs_;
  CgroupInfo cgroups_;
};

}  // namespace cricket::oci::testing
