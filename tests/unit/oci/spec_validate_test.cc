#include "oci/spec_validate.h"

#include <sched.h>

#include <algorithm>

#include <gtest/gtest.h>

#include "oci/spec_default.h"

namespace cricket::oci {
namespace {

Spec ValidSpec() {
  Spec spec = DefaultSpec();
  ResolveBundlePaths(spec, "/bundle");
  return spec;
}

void ExpectInvalid(const Spec& spec, std::string_view prefix) {
  auto result = ValidateSpec(spec);
  ASSERT_FALSE(result.ok()) << "expected an error starting with " << prefix;
  EXPECT_EQ(result.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(result.error().message().substr(0, prefix.size()), prefix) << result.error().message();
}

TEST(SpecValidateTest, DefaultSpecIsValid) {
  auto result = ValidateSpec(ValidSpec());
  EXPECT_TRUE(result.ok()) << result.error().ToString();
}

TEST(SpecValidateTest, ResolvesRelativeRootAndBindSourcesAgainstBundle) {
  Spec spec = DefaultSpec();
  spec.mounts.push_back(Mount{"/data", "bind", "data", {"rbind"}, {}, {}});
  spec.mounts.push_back(Mount{"/abs", "", "/src", {"bind"}, {}, {}});
  ResolveBundlePaths(spec, "/b");
  EXPECT_EQ(spec.root->path, "/b/rootfs");
  EXPECT_EQ(spec.mounts[7].source, "/b/data");
  EXPECT_EQ(spec.mounts[8].source, "/src");
  EXPECT_EQ(spec.mounts[0].source, "proc");  // not a bind mount
}

TEST(SpecValidateTest, RelativeRootPathIsRejected) {
  Spec spec = DefaultSpec();
  ExpectInvalid(spec, "root.path: must be absolute");
}

TEST(SpecValidateTest, UnknownMajorVersion) {
  Spec spec = ValidSpec();
  spec.oci_version = "2.0.0";
  ExpectInvalid(spec, "ociVersion: unsupported major version 2");
}

TEST(SpecValidateTest, OlderMinorVersionIsAccepted) {
  Spec spec = ValidSpec();
  spec.oci_version = "1.0.2-dev";
  EXPECT_TRUE(ValidateSpec(spec).ok());
}

TEST(SpecValidateTest, GarbageVersion) {
  Spec spec = ValidSpec();
  spec.oci_version = "v1";
  ExpectInvalid(spec, "ociVersion: not a version");
}

TEST(SpecValidateTest, RelativeMountDestination) {
  Spec spec = ValidSpec();
  spec.mounts.push_back(Mount{"data", "tmpfs", "tmpfs", {}, {}, {}});
  ExpectInvalid(spec, "mounts[7].destination: must be an absolute path");
}

TEST(SpecValidateTest, BindMountWithoutSource) {
  Spec spec = ValidSpec();
  spec.mounts.push_back(Mount{"/data", "", "", {"rbind", "ro"}, {}, {}});
  ExpectInvalid(spec, "mounts[7].source: a bind mount needs a source");
}

TEST(SpecValidateTest, MountWithoutTypeThatIsNotBind) {
  Spec spec = ValidSpec();
  spec.mounts.push_back(Mount{"/data", "", "/src", {"ro"}, {}, {}});
  ExpectInvalid(spec, "mounts[7].type: missing");
}

TEST(SpecValidateTest, UnknownNamespaceType) {
  Spec spec = ValidSpec();
  spec.linux->namespaces.push_back(Namespace{"foo", ""});
  ExpectInvalid(spec, "linux.namespaces[6].type: unknown namespace type \"foo\"");
}

TEST(SpecValidateTest, DuplicateNamespace) {
  Spec spec = ValidSpec();
  spec.linux->namespaces.push_back(Namespace{"pid", ""});
  ExpectInvalid(spec, "linux.namespaces[6].type: namespace \"pid\" listed twice");
}

TEST(SpecValidateTest, HostnameNeedsUtsNamespace) {
  Spec spec = ValidSpec();
  std::erase_if(spec.linux->namespaces, [](const Namespace& ns) { return ns.type == "uts"; });
  ExpectInvalid(spec, "hostname: needs its own uts namespace");
}

TEST(SpecValidateTest, MissingArgsAndRelativeCwd) {
  Spec spec = ValidSpec();
  spec.process->args.clear();
  ExpectInvalid(spec, "process.args");
  spec = ValidSpec();
  spec.process->cwd = "tmp";
  ExpectInvalid(spec, "process.cwd: must be an absolute path");
}

TEST(SpecValidateTest, UnknownRlimit) {
  Spec spec = ValidSpec();
  spec.process->rlimits.push_back(Rlimit{"RLIMIT_BOGUS", 1, 1});
  ExpectInvalid(spec, "process.rlimits[1].type: unknown rlimit");
}

TEST(SpecValidateTest, UnknownRootfsPropagation) {
  Spec spec = ValidSpec();
  spec.linux->rootfs_propagation = "sideways";
  ExpectInvalid(spec, "linux.rootfsPropagation");
}

TEST(SpecValidateTest, NamespaceFlags) {
  EXPECT_EQ(NamespaceCloneFlag("network"), CLONE_NEWNET);
  EXPECT_EQ(NamespaceCloneFlag("bogus"), 0);
}


TEST(SpecValidateTest, IdmappedMountsMustBeBindsWithBothMappings) {
  Spec spec = ValidSpec();
  Mount m;
  m.destination = "/t";
  m.type = "tmpfs";
  m.source = "tmpfs";
  m.options = {"idmap"};
  spec.mounts.push_back(m);
  ExpectInvalid(spec, "mounts[" + std::to_string(spec.mounts.size() - 1) + "].options: idmapped");
  spec.mounts.back() = Mount{"/d", "bind", "/data", {"rbind"}, {IdMapping{0, 1000, 1}}, {}};
  ExpectInvalid(spec, "mounts[" + std::to_string(spec.mounts.size() - 1) + "].uidMappings: an idmapped");
  spec.mounts.back().gid_mappings = {IdMapping{0, 1000, 1}};
  EXPECT_TRUE(ValidateSpec(spec).ok());
}

// CVE-2019-16884: nothing but procfs over /proc, and below it only what lxcfs binds.
TEST(SpecValidateTest, MountsOverProcAreRefused) {
  for (const char* dest : {"/proc", "/./proc/", "//proc", "/a/../proc"}) {
    Spec spec = ValidSpec();
    spec.mounts.push_back(Mount{dest, "tmpfs", "tmpfs", {}, {}, {}});
    ExpectInvalid(spec,
                  "mounts[7].destination: \"" + std::string(dest) + "\" takes only a proc mount");
  }
  for (const char* dest : {"/proc/sys", "/proc/self/attr", "/proc/x", "/proc/../proc/sys/"}) {
    Spec spec = ValidSpec();
    spec.mounts.push_back(Mount{dest, "bind", "/tmp", {"bind"}, {}, {}});
    ExpectInvalid(spec, "mounts[7].destination: no mounts under /proc");
  }
}

TEST(SpecValidateTest, ProcMountsRuncAllowsAreAccepted) {
  Spec spec = ValidSpec();
  spec.mounts.push_back(Mount{"/proc", "proc", "proc", {}, {}, {}});
  spec.mounts.push_back(Mount{"/proc", "bind", "/proc", {"rbind"}, {}, {}});  // source: see plan
  for (const char* dest : {"/proc/cpuinfo", "/proc/meminfo", "/proc/uptime", "/proc//stat",
                           "/proc/sys/kernel/ns_last_pid"}) {
    spec.mounts.push_back(
        Mount{dest, "bind", "/var/lib/lxcfs" + std::string(dest), {"bind"}, {}, {}});
  }
  spec.mounts.push_back(Mount{"/procfoo", "tmpfs", "tmpfs", {}, {}, {}});
  auto result = ValidateSpec(spec);
  EXPECT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(ClassifyProcMount("/proc/net/dev"), ProcMountRule::kRefused);  // not in runc's list
}

Spec WithSysctl(const std::string& key, std::initializer_list<const char*> drop_namespaces = {}) {
  Spec spec = ValidSpec();
  for (const char* type : drop_namespaces) {
    std::erase_if(spec.linux->namespaces, [&](const Namespace& ns) { return ns.type == type; });
  }
  if (std::find(drop_namespaces.begin(), drop_namespaces.end(), std::string_view("uts")) !=
      drop_namespaces.end()) {
    spec.hostname.clear();
  }
  spec.linux->sysctl[key] = "1";
  return spec;
}

TEST(SpecValidateTest, NamespacedSysctlsNeedTheirNamespace) {
  for (const char* key : {"net.ipv4.ip_forward", "net/ipv4/conf/all/forwarding", "kernel.shmmax",
                          "kernel.shm_rmid_forced", "fs.mqueue.msg_max", "kernel.domainname"}) {
    auto result = ValidateSpec(WithSysctl(key));
    EXPECT_TRUE(result.ok()) << key << ": " << result.error().ToString();
  }
  ExpectInvalid(WithSysctl("net.ipv4.ip_forward", {"network"}),
                "linux.sysctl[\"net.ipv4.ip_forward\"]: sysctl \"net.ipv4.ip_forward\" needs the "
                "container's own network namespace");
  ExpectInvalid(WithSysctl("kernel.msgmax", {"ipc"}),
                "linux.sysctl[\"kernel.msgmax\"]: sysctl "
                "\"kernel.msgmax\" needs the container's own ipc");
  ExpectInvalid(WithSysctl("fs.mqueue.queues_max", {"ipc"}),
                "linux.sysctl[\"fs.mqueue.queues_max\"]");
  ExpectInvalid(WithSysctl("kernel.domainname", {"uts"}), "linux.sysctl[\"kernel.domainname\"]");
  ExpectInvalid(WithSysctl("user.max_user_namespaces"),
                "linux.sysctl[\"user.max_user_namespaces\"]");
}

TEST(SpecValidateTest, NodeWideSysctlsAreRefused) {
  ExpectInvalid(WithSysctl("kernel.panic"),
                "linux.sysctl[\"kernel.panic\"]: sysctl \"kernel.panic\" is not namespaced");
  ExpectInvalid(WithSysctl("kernel/panic"), "linux.sysctl[\"kernel/panic\"]");
  ExpectInvalid(WithSysctl("vm.overcommit_memory"), "linux.sysctl[\"vm.overcommit_memory\"]");
  ExpectInvalid(WithSysctl("kernel.hostname"),
                "linux.sysctl[\"kernel.hostname\"]: sysctl "
                "\"kernel.hostname\" conflicts");
  // A path trick does not pass as a net.* sysctl.
  ExpectInvalid(WithSysctl("net.//.//.kernel.panic"),
                "linux.sysctl[\"net.//.//.kernel.panic\"]: not a sysctl name");
  ExpectInvalid(WithSysctl("net..ipv4"), "linux.sysctl[\"net..ipv4\"]: not a sysctl name");
}

}  // namespace
}  // namespace cricket::oci
