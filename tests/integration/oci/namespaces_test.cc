#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/integration/oci/container_fixture.h"

namespace cricket::oci::testing {
namespace {

class NamespacesTest : public ContainerTest {};

TEST_F(NamespacesTest, HostnamePidOneAndOnlyLoopback) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("hostname > /out/log; echo $$ >> /out/log; ls /sys/class/net >> /out/log");
  spec.hostname = "crbox";
  auto result = Run(spec);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "crbox\n1\nlo\n");
}

TEST_F(NamespacesTest, IpcAndUtsDifferFromHost) {
  CR_REQUIRE_ROOT();
  auto result = Run(MakeSpec("readlink /proc/self/ns/ipc > /out/log; readlink /proc/self/ns/uts >> /out/log"));
  std::string host = std::filesystem::read_symlink("/proc/self/ns/ipc").string() + "\n" +
                     std::filesystem::read_symlink("/proc/self/ns/uts").string() + "\n";
  EXPECT_EQ(result.exit_code, 0);
  ASSERT_FALSE(result.out.empty());
  EXPECT_NE(result.out.substr(0, result.out.find('\n')), host.substr(0, host.find('\n')));
  EXPECT_NE(result.out.substr(result.out.find('\n')), host.substr(host.find('\n')));
}

TEST_F(NamespacesTest, JoiningByPathSharesTheNamespace) {
  CR_REQUIRE_ROOT();
  WriteSpec(MakeSpec("sleep 100"));
  auto sandbox = runtime_->Create("sandbox", Opts());
  ASSERT_TRUE(sandbox.ok()) << sandbox.error().ToString();
  std::string ns_dir = "/proc/" + std::to_string(sandbox->pid) + "/ns/";
  std::string sandbox_net = std::filesystem::read_symlink(ns_dir + "net").string();
  std::string sandbox_uts = std::filesystem::read_symlink(ns_dir + "uts").string();

  Spec spec = MakeSpec("readlink /proc/self/ns/net > /out/log; readlink /proc/self/ns/uts >> /out/log; hostname >> /out/log");
  spec.hostname.clear();
  for (auto& ns : spec.linux->namespaces) {
    if (ns.type == "network" || ns.type == "uts") {
      ns.path = ns_dir + (ns.type == "network" ? "net" : "uts");
    }
  }
  auto result = Run(spec, "member");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, sandbox_net + "\n" + sandbox_uts + "\ncricket\n");
  ASSERT_TRUE(runtime_->Delete("sandbox", true).ok());
}

TEST_F(NamespacesTest, JoiningAPidNamespaceSeesItsProcesses) {
  CR_REQUIRE_ROOT();
  WriteSpec(MakeSpec("exec sleep 100"));
  auto first = runtime_->Create("pidns", Opts());
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  ASSERT_TRUE(runtime_->Start("pidns").ok());
  WaitUntilExecd(first->pid);
  Spec spec = MakeSpec("cat /proc/1/comm > /out/log; echo $$ >> /out/log");
  for (auto& ns : spec.linux->namespaces) {
    if (ns.type == "pid") {
      ns.path = "/proc/" + std::to_string(first->pid) + "/ns/pid";
    }
  }
  auto result = Run(spec, "joiner");
  EXPECT_EQ(result.out.substr(0, result.out.find('\n')), "sleep");
  EXPECT_NE(result.out.substr(result.out.find('\n') + 1), "1\n");
  ASSERT_TRUE(runtime_->Delete("pidns", true).ok());
}

TEST_F(NamespacesTest, UserNamespaceWithMappings) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("cat /proc/self/uid_map /proc/self/gid_map > /out/log; id -u >> /out/log");
  spec.linux->namespaces.push_back(Namespace{"user", ""});
  spec.linux->uid_mappings = {IdMapping{0, 100000, 65536}};
  spec.linux->gid_mappings = {IdMapping{0, 100000, 65536}};
  // A v1 cgroup filesystem cannot be mounted from a user namespace.
  std::erase_if(spec.mounts, [](const Mount& m) { return m.type == "cgroup"; });
  ::chmod(bundle_->path().c_str(), 0755);  // mapped root is uid 100000 on the host
  auto result = Run(spec);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("100000"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.substr(result.out.rfind('\n', result.out.size() - 2) + 1), "0\n");
}

TEST_F(NamespacesTest, ExecIntoAUserNamespaceContainer) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("sleep 100");
  spec.linux->namespaces.push_back(Namespace{"user", ""});
  spec.linux->uid_mappings = {IdMapping{0, 100000, 65536}};
  spec.linux->gid_mappings = {IdMapping{0, 100000, 65536}};
  std::erase_if(spec.mounts, [](const Mount& m) { return m.type == "cgroup"; });
  ::chmod(bundle_->path().c_str(), 0755);
  WriteSpec(spec);
  auto created = runtime_->Create("userexec", Opts());
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  ASSERT_TRUE(runtime_->Start("userexec").ok());
  WaitUntilExecd(created->pid);
  Process p = *spec.process;
  p.args = {"sh", "-c", "id -u > /out/exec; cat /proc/self/uid_map >> /out/exec"};
  auto pid = runtime_->Exec("userexec", p, {});
  ASSERT_TRUE(pid.ok()) << pid.error().ToString();
  EXPECT_EQ(runtime_->Wait(*pid).value_or(-1), 0);
  EXPECT_EQ(ReadOut("exec").rfind("0\n", 0), 0u) << ReadOut("exec");
  EXPECT_NE(ReadOut("exec").find("100000"), std::string::npos);
  ASSERT_TRUE(runtime_->Delete("userexec", true).ok());
}

TEST_F(NamespacesTest, SysctlRlimitAndOomScoreAdj) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec(
      "cat /proc/sys/net/ipv4/ip_forward > /out/log; ulimit -n >> /out/log; "
      "echo hi > /proc/sys/net/ipv4/ip_forward 2>/dev/null || echo ro >> /out/log");
  spec.linux->sysctl["net.ipv4.ip_forward"] = "1";
  spec.process->rlimits = {Rlimit{"RLIMIT_NOFILE", 200, 100}};
  spec.process->oom_score_adj = -500;  // needs CAP_SYS_RESOURCE: warned about, not fatal
  auto result = Run(spec);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "1\n100\nro\n");
}

}  // namespace
}  // namespace cricket::oci::testing
