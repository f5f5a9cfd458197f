// `cricketctl check` against a fake kernel (NodeCheckEnv): a healthy cgroup v2 node passes, and
// each missing feature turns its row WARN or FAIL with its cost; any FAIL makes exit code 1.

#include "cri/admin/node_check.h"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace cricket::cri::admin {
namespace {

constexpr const char* kV2Mountinfo =
    "23 1 0:21 / /sys rw - sysfs sysfs rw\n"
    "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";

constexpr const char* kHybridMountinfo =
    "25 23 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:23 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
    "27 25 0:24 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
    "28 25 0:25 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
    "29 25 0:26 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices\n";

// A node with everything Cricket uses: cgroup v2, AppArmor with cricket-default, iptables on
// nf_tables, CRIU that passes its check, systemd as PID 1.
class FakeNode : public NodeCheckEnv {
 public:
  FakeNode() {
    files = {
        {"/proc/self/mountinfo", kV2Mountinfo},
        {"/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n"},
        {"/proc/filesystems", "nodev\tsysfs\nnodev\toverlay\n"},
        {"/proc/self/status", "Name:\tcricketctl\nSeccomp:\t0\n"},
        {"/sys/module/apparmor/parameters/enabled", "Y\n"},
        {"/sys/kernel/security/apparmor/profiles", "cricket-default (enforce)\n"},
        {"/proc/sys/net/ipv4/ip_forward", "1\n"},
        {"/proc/sys/net/bridge/bridge-nf-call-iptables", "1\n"},
        {"/proc/sys/user/max_user_namespaces", "15000\n"},
        {"/proc/1/comm", "systemd\n"},
    };
    for (const char* ns : {"mnt", "uts", "ipc", "pid", "net", "cgroup", "user"}) {
      exists.insert(std::string("/proc/self/ns/") + ns);
    }
    exists.insert({"/sys/module/bridge", "/sys/module/veth", "/sys/module/br_netfilter",
                   "/run/systemd/system"});
    executables = {"/usr/sbin/iptables", "/usr/sbin/criu", "/sbin/apparmor_parser"};
    outputs["/usr/sbin/iptables --version"] = {0, 0, "iptables v1.8.9 (nf_tables)\n", ""};
    outputs["/usr/sbin/criu check"] = {0, 0, "Looks good.\n", ""};
  }

  Result<std::string> ReadFile(const std::string& path) override {
    auto it = files.find(path);
    if (it == files.end()) {
      return Error(Code::kNotFound, "no " + path);
    }
    return it->second;
  }
  bool Exists(const std::string& path) override {
    return exists.contains(path) || files.contains(path);
  }
  bool IsExecutable(const std::string& path) override { return executables.contains(path); }
  std::string KernelRelease() override { return release; }
  int Probe(SyscallProbe probe) override {
    auto it = probes.find(probe);
    return it == probes.end() ? 0 : it->second;
  }
  Result<SubprocessResult> Run(const std::vector<std::string>& argv) override {
    std::string key;
    for (const auto& arg : argv) {
      key += (key.empty() ? "" : " ") + arg;
    }
    auto it = outputs.find(key);
    if (it == outputs.end()) {
      return Error(Code::kNotFound, "cannot run " + key);
    }
    return it->second;
  }

  std::map<std::string, std::string> files;
  std::set<std::string> exists;
  std::set<std::string> executables;
  std::string release = "6.1.0-18-amd64";
  std::map<SyscallProbe, int> probes;
  std::map<std::string, SubprocessResult> outputs;
};

class NodeCheckTest : public ::testing::Test {
 protected:
  NodeCheckTest() { config_.network.cni_conf_dir = cni_.Join("net.d"); }

  std::vector<CheckRow> Check() { return CheckNode(node_, config_); }

  // The row named `name`; a failure (and an empty row) when there is none.
  static CheckRow Row(const std::vector<CheckRow>& rows, const std::string& name) {
    for (const auto& row : rows) {
      if (row.name == name) {
        return row;
      }
    }
    ADD_FAILURE() << "no row " << name << " in\n" << FormatCheckTable(rows);
    return {};
  }

  FakeNode node_;
  Config config_;
  testing::TempDir cni_{"cni"};
};

TEST_F(NodeCheckTest, AHealthyNodePassesEveryCheck) {
  auto rows = Check();

  for (const auto& row : rows) {
    EXPECT_EQ(row.status, CheckStatus::kOk) << row.name << ": " << row.detail;
    EXPECT_TRUE(row.cost.empty()) << row.name;
  }
  EXPECT_EQ(CheckExitCode(rows), 0);
  EXPECT_EQ(Row(rows, "iptables backend").detail, "nf_tables (kube-proxy must use the same)");
  EXPECT_EQ(Row(rows, "cgroup mode").detail, "v2 (unified) at /sys/fs/cgroup");
  EXPECT_EQ(Row(rows, "criu").detail, "/usr/sbin/criu check: Looks good.");
  for (const char* name :
       {"kernel", "namespace user", "overlayfs", "openat2", "close_range", "idmapped mounts",
        "seccomp", "apparmor", "cgroup controller memory", "cgroup controller io", "module bridge",
        "module veth", "module br_netfilter", "net.ipv4.ip_forward", "cni config"}) {
    EXPECT_EQ(Row(rows, name).status, CheckStatus::kOk) << name;
  }
}

TEST_F(NodeCheckTest, AKernelWithoutOpenat2FailsAndExitsOne) {
  node_.probes[SyscallProbe::kOpenat2] = ENOSYS;

  auto rows = Check();

  CheckRow row = Row(rows, "openat2");
  EXPECT_EQ(row.status, CheckStatus::kFail);
  EXPECT_EQ(row.detail, "missing (ENOSYS; needs Linux 5.6)");
  EXPECT_EQ(row.cost, "container paths cannot be resolved inside their root: containers fail");
  EXPECT_EQ(CheckExitCode(rows), 1);
  const std::string table = FormatCheckTable(rows);
  EXPECT_NE(table.find("-> container paths cannot be resolved"), std::string::npos) << table;
  EXPECT_NE(table.find(" 1 FAIL\n"), std::string::npos) << table;
}

TEST_F(NodeCheckTest, MissingOverlayfsFails) {
  node_.files["/proc/filesystems"] = "nodev\tsysfs\n";
  auto rows = Check();
  EXPECT_EQ(Row(rows, "overlayfs").status, CheckStatus::kFail);
  EXPECT_EQ(CheckExitCode(rows), 1);
  // A module on disk is enough: the kernel loads it on the first mount.
  node_.files["/lib/modules/6.1.0-18-amd64/modules.dep"] = "kernel/fs/overlayfs/overlay.ko.xz:\n";
  EXPECT_EQ(Row(Check(), "overlayfs").status, CheckStatus::kOk);
}

TEST_F(NodeCheckTest, OlderKernelsWarnOrFailByWhatTheyLack) {
  node_.release = "5.10.0-28-amd64";
  node_.probes[SyscallProbe::kMountSetattr] = ENOSYS;
  auto rows = Check();
  EXPECT_EQ(Row(rows, "kernel").status, CheckStatus::kWarn);
  EXPECT_EQ(Row(rows, "idmapped mounts").status, CheckStatus::kWarn);
  EXPECT_EQ(CheckExitCode(rows), 0);

  node_.release = "4.19.0-26-amd64";
  node_.probes[SyscallProbe::kCloseRange] = ENOSYS;
  rows = Check();
  EXPECT_EQ(Row(rows, "kernel").status, CheckStatus::kFail);
  EXPECT_EQ(Row(rows, "close_range").status, CheckStatus::kWarn);
  EXPECT_EQ(CheckExitCode(rows), 1);
}

TEST_F(NodeCheckTest, NamespacesAndSeccomp) {
  node_.exists.erase("/proc/self/ns/pid");
  node_.files["/proc/sys/user/max_user_namespaces"] = "0\n";
  node_.probes[SyscallProbe::kSeccompFilter] = EINVAL;
  auto rows = Check();
  EXPECT_EQ(Row(rows, "namespace pid").status, CheckStatus::kFail);
  EXPECT_EQ(Row(rows, "namespace user").status, CheckStatus::kWarn);
  EXPECT_EQ(Row(rows, "namespace user").detail, "user.max_user_namespaces is 0");
  EXPECT_EQ(Row(rows, "seccomp").status, CheckStatus::kFail);
}

TEST_F(NodeCheckTest, HybridCgroupsWarnAndEachV1ControllerIsChecked) {
  node_.files["/proc/self/mountinfo"] = kHybridMountinfo;  // no memory hierarchy

  auto rows = Check();

  EXPECT_EQ(Row(rows, "cgroup mode").status, CheckStatus::kWarn);
  EXPECT_EQ(Row(rows, "cgroup controller cpu").status, CheckStatus::kOk);
  EXPECT_EQ(Row(rows, "cgroup controller pids").status, CheckStatus::kOk);
  EXPECT_EQ(Row(rows, "cgroup controller devices").status, CheckStatus::kOk);
  EXPECT_EQ(Row(rows, "cgroup controller memory").status, CheckStatus::kFail);
  EXPECT_EQ(Row(rows, "cgroup controller blkio").status, CheckStatus::kWarn);
  EXPECT_EQ(CheckExitCode(rows), 1);
}

TEST_F(NodeCheckTest, TheSystemdDriverNeedsSystemdAsPid1) {
  node_.exists.erase("/run/systemd/system");
  EXPECT_EQ(CheckExitCode(Check()), 0);  // cgroupfs: not needed

  config_.cgroup_driver = CgroupDriver::kSystemd;
  auto rows = Check();
  EXPECT_EQ(Row(rows, "systemd (cgroup_driver = systemd)").status, CheckStatus::kFail);
  EXPECT_EQ(CheckExitCode(rows), 1);
}

TEST_F(NodeCheckTest, AppArmorOffWarnsAndOnWithoutAParserFails) {
  node_.files["/sys/module/apparmor/parameters/enabled"] = "N\n";
  EXPECT_EQ(Row(Check(), "apparmor").status, CheckStatus::kWarn);

  node_.files["/sys/module/apparmor/parameters/enabled"] = "Y\n";
  node_.files["/sys/kernel/security/apparmor/profiles"] = "other (enforce)\n";
  EXPECT_EQ(Row(Check(), "apparmor").status, CheckStatus::kOk);  // loadable on first use
  node_.executables.erase("/sbin/apparmor_parser");
  EXPECT_EQ(Row(Check(), "apparmor").status, CheckStatus::kFail);
}

TEST_F(NodeCheckTest, NetworkPiecesAndTheirBackend) {
  node_.outputs["/usr/sbin/iptables --version"] = {0, 0, "iptables v1.8.7 (legacy)\n", ""};
  node_.exists.erase("/sys/module/br_netfilter");
  node_.files["/proc/sys/net/ipv4/ip_forward"] = "0\n";
  auto rows = Check();
  EXPECT_EQ(Row(rows, "iptables").detail, "iptables v1.8.7 at /usr/sbin/iptables");
  EXPECT_EQ(Row(rows, "iptables backend").detail, "legacy (kube-proxy must use the same)");
  EXPECT_EQ(Row(rows, "module br_netfilter").status, CheckStatus::kWarn);
  EXPECT_EQ(Row(rows, "net.ipv4.ip_forward").status, CheckStatus::kWarn);
  EXPECT_EQ(CheckExitCode(rows), 0);

  node_.executables.erase("/usr/sbin/iptables");
  node_.exists.erase("/sys/module/veth");
  rows = Check();
  // No module tree: the kernel cannot say whether veth is built in.
  EXPECT_EQ(Row(rows, "module veth").status, CheckStatus::kWarn);
  node_.files["/lib/modules/6.1.0-18-amd64/modules.dep"] = "kernel/net/bridge/bridge.ko:\n";
  rows = Check();
  EXPECT_EQ(Row(rows, "iptables").status, CheckStatus::kFail);
  EXPECT_EQ(Row(rows, "module veth").status, CheckStatus::kFail);
  EXPECT_EQ(CheckExitCode(rows), 1);
}

TEST_F(NodeCheckTest, CriuMissingOrFailingItsCheckWarns) {
  node_.outputs["/usr/sbin/criu check"] = {1, 0, "", "Error (criu/cr-check.c:1): no\nmore\n"};
  CheckRow row = Row(Check(), "criu");
  EXPECT_EQ(row.status, CheckStatus::kWarn);
  EXPECT_EQ(row.detail, "/usr/sbin/criu check failed: Error (criu/cr-check.c:1): no");

  node_.executables.erase("/usr/sbin/criu");
  row = Row(Check(), "criu");
  EXPECT_EQ(row.status, CheckStatus::kWarn);
  EXPECT_EQ(row.detail, "not installed");
}

TEST_F(NodeCheckTest, EachRuntimeHandlerBinaryIsChecked) {
  config_.runtimes["runc"].path = "/usr/sbin/runc";
  config_.runtimes["own"];
  auto rows = Check();
  EXPECT_EQ(Row(rows, "runtime handler runc").status, CheckStatus::kFail);
  EXPECT_EQ(Row(rows, "runtime handler own").status, CheckStatus::kOk);
  EXPECT_EQ(CheckExitCode(rows), 1);
  node_.executables.insert("/usr/sbin/runc");
  EXPECT_EQ(CheckExitCode(Check()), 0);
}

TEST_F(NodeCheckTest, EachCniPluginOfTheConfigurationIsChecked) {
  std::filesystem::create_directories(config_.network.cni_conf_dir);
  std::ofstream(config_.network.cni_conf_dir + "/10-net.conflist")
      << R"({"cniVersion":"1.0.0","name":"podnet","plugins":[{"type":"bridge"},)"
      << R"({"type":"portmap","capabilities":{"portMappings":true}}]})";
  node_.executables.insert("/opt/cni/bin/bridge");

  auto rows = Check();

  EXPECT_EQ(Row(rows, "cni plugin bridge").detail, "/opt/cni/bin/bridge");
  EXPECT_EQ(Row(rows, "cni plugin portmap").status, CheckStatus::kFail);
  EXPECT_EQ(CheckExitCode(rows), 1);
}

}  // namespace
}  // namespace cricket::cri::admin
