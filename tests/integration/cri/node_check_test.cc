// `cricketctl check` on the real node (root): every row is there, each agrees with what the
// kernel shows through other means, and the exit status is 1 exactly when a row FAILs. On this
// project's hosts (kernel 6.18, hybrid cgroups, AppArmor off, no CRIU) the cgroup mode,
// AppArmor and CRIU rows are WARN and nothing FAILs.

#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/subprocess.h"
#include "oci/cgroup_detect.h"
#include "tests/support/temp_dir.h"

namespace cricket::testing {
namespace {

// The RESULT column of row `name` in the table; empty when the row is missing.
std::string Result(const std::string& table, const std::string& name) {
  size_t at = 0;
  while ((at = table.find(name + "  ", at)) != std::string::npos) {
    if (at == 0 || table[at - 1] == '\n') {
      size_t start = table.find_first_not_of(' ', at + name.size());
      return table.substr(start, table.find(' ', start) - start);
    }
    ++at;
  }
  return "";
}

TEST(NodeCheckHostTest, ReportsThisNodeAsItIs) {
  CR_REQUIRE_ROOT();
  TempDir dir("check");
  // An empty config file: the defaults, whatever /etc/cricket holds on this machine.
  ASSERT_TRUE(WriteFileAtomic(dir.Join("config.toml"), "", 0644).ok());

  auto run = RunSubprocess({CRICKETCTL_PATH, "--config", dir.Join("config.toml"), "check"});

  ASSERT_TRUE(run.ok()) << run.error().ToString();
  const std::string& table = run->out;
  SCOPED_TRACE(table + run->err);
  const bool any_fail = table.find("  FAIL  ") != std::string::npos;
  EXPECT_EQ(run->exit_code, any_fail ? 1 : 0);
  for (const char* name : {"kernel", "namespace mnt", "namespace user", "overlayfs", "openat2",
                           "close_range", "idmapped mounts", "seccomp", "cgroup controller cpu",
                           "cgroup controller memory", "cgroup controller pids"}) {
    EXPECT_EQ(Result(table, name), "OK") << name;
  }
  auto cgroups = oci::DetectCgroups();
  ASSERT_TRUE(cgroups.ok());
  EXPECT_EQ(Result(table, "cgroup mode"), cgroups->mode == oci::CgroupMode::kV2 ? "OK" : "WARN");
  const bool apparmor =
      ReadFile("/sys/module/apparmor/parameters/enabled").value_or("").starts_with("Y");
  if (!apparmor) {
    EXPECT_EQ(Result(table, "apparmor"), "WARN");
  }
  EXPECT_EQ(
      Result(table, "net.ipv4.ip_forward"),
      ReadFile("/proc/sys/net/ipv4/ip_forward").value_or("").starts_with("1") ? "OK" : "WARN");
  const bool criu = ::access("/usr/sbin/criu", X_OK) == 0 || ::access("/usr/bin/criu", X_OK) == 0;
  if (!criu) {
    EXPECT_EQ(Result(table, "criu"), "WARN");
  }
  EXPECT_NE(Result(table, "iptables backend"), "");
  EXPECT_NE(table.find(" OK, "), std::string::npos);
}

TEST(NodeCheckHostTest, ARuntimeHandlerThatIsNotThereFailsWithExitOne) {
  CR_REQUIRE_ROOT();
  TempDir dir("check");
  ASSERT_TRUE(WriteFileAtomic(dir.Join("config.toml"),
                              "[runtimes.\"ghost\"]\npath = \"" + dir.Join("no-runc") + "\"\n",
                              0644)
                  .ok());

  auto run = RunSubprocess({CRICKETCTL_PATH, "--config", dir.Join("config.toml"), "check"});

  ASSERT_TRUE(run.ok()) << run.error().ToString();
  EXPECT_EQ(Result(run->out, "runtime handler ghost"), "FAIL") << run->out;
  EXPECT_EQ(run->exit_code, 1) << run->out;
}

}  // namespace
}  // namespace cricket::testing
