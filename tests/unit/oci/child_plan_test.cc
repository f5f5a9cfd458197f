#include "oci/child_plan.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

#include "oci/spec_default.h"
#include "tests/support/temp_dir.h"

namespace cricket::oci {
namespace {

Spec BaseSpec() {
  Spec spec = DefaultSpec();
  spec.root->path = "/bundle/rootfs";
  return spec;
}

const MountStep* Find(const ChildPlan& plan, const std::string& destination, MountStep::Kind kind) {
  auto it = std::find_if(plan.mounts.begin(), plan.mounts.end(), [&](const MountStep& m) {
    return m.destination == destination && m.kind == kind;
  });
  return it == plan.mounts.end() ? nullptr : &*it;
}

TEST(ChildPlanTest, NamespacesBecomeCloneFlagsAndCgroupNsIsUnsharedLater) {
  Spec spec = BaseSpec();
  auto plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_EQ(plan->clone_flags, CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS);
  EXPECT_TRUE(plan->unshare_cgroupns);
  EXPECT_TRUE(plan->setup_rootfs);
  EXPECT_TRUE(plan->dev_symlinks);
  EXPECT_EQ(plan->devices.size(), DefaultDevices().size());
  EXPECT_EQ(plan->devices[0].dev, makedev(1, 3));
  EXPECT_EQ(plan->devices[0].mode, static_cast<mode_t>(S_IFCHR | 0666));
}

TEST(ChildPlanTest, MountNamespaceIsRequired) {
  Spec spec = BaseSpec();
  std::erase_if(spec.linux->namespaces, [](const Namespace& ns) { return ns.type == "mount"; });
  auto plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code(), Code::kInvalidArgument);
}

TEST(ChildPlanTest, ReadOnlyBindBecomesBindThenRemount) {
  cricket::testing::TempDir src("plan");
  Spec spec = BaseSpec();
  spec.mounts.push_back(Mount{"/data", "bind", src.path(), {"rbind", "ro", "nosuid", "rslave"}, {}, {}});
  auto plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  const MountStep* bind = Find(*plan, "/data", MountStep::Kind::kMount);
  const MountStep* remount = Find(*plan, "/data", MountStep::Kind::kRemount);
  ASSERT_NE(bind, nullptr);
  ASSERT_NE(remount, nullptr);
  EXPECT_EQ(bind->flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  EXPECT_EQ(remount->flags, static_cast<unsigned long>(MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID));
  EXPECT_EQ(remount->propagation, (std::vector<unsigned long>{MS_SLAVE | MS_REC}));
  EXPECT_TRUE(bind->target_is_dir);
}

TEST(ChildPlanTest, MissingBindSourceNamesTheMount) {
  Spec spec = BaseSpec();
  spec.mounts.push_back(Mount{"/data", "bind", "/nonexistent-crtest", {"bind"}, {}, {}});
  auto plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code(), Code::kNotFound);
  EXPECT_EQ(plan.error().message().rfind("mounts[7].source", 0), 0u) << plan.error().message();
}

TEST(ChildPlanTest, CgroupMountOnV1IsATmpfsWithOneMountPerHierarchy) {
  CgroupInfo info;
  info.mode = CgroupMode::kHybrid;
  info.v1 = {{"/sys/fs/cgroup/cpu,cpuacct", {"cpu", "cpuacct"}}, {"/sys/fs/cgroup/memory", {"memory"}}};
  Spec spec = BaseSpec();
  auto plan = BuildChildPlan({spec, &info, 0});
  ASSERT_TRUE(plan.ok());
  const MountStep* tmpfs = Find(*plan, "/sys/fs/cgroup", MountStep::Kind::kMount);
  ASSERT_NE(tmpfs, nullptr);
  EXPECT_EQ(tmpfs->type, "tmpfs");
  EXPECT_EQ(tmpfs->flags & MS_RDONLY, 0u);
  const MountStep* cpu = Find(*plan, "/sys/fs/cgroup/cpu,cpuacct", MountStep::Kind::kMount);
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->data, "cpu,cpuacct");
  EXPECT_NE(cpu->flags & MS_RDONLY, 0u);
  const MountStep* ro = Find(*plan, "/sys/fs/cgroup", MountStep::Kind::kRemount);
  ASSERT_NE(ro, nullptr);
  EXPECT_NE(ro->flags & MS_RDONLY, 0u);
}

TEST(ChildPlanTest, CgroupMountOnV2IsCgroup2) {
  CgroupInfo info;
  info.mode = CgroupMode::kV2;
  info.unified_mount = "/sys/fs/cgroup";
  Spec spec = BaseSpec();
  auto plan = BuildChildPlan({spec, &info, 0});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(Find(*plan, "/sys/fs/cgroup", MountStep::Kind::kMount)->type, "cgroup2");
}

TEST(ChildPlanTest, SysctlsRlimitsUserAndPath) {
  Spec spec = BaseSpec();
  spec.linux->sysctl["net.ipv4.ip_forward"] = "1";
  spec.process->user = User{1000, 1000, 022, {5}};
  spec.process->env = {"PATH=/opt/bin:/bin"};
  auto plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->sysctls.size(), 1u);
  EXPECT_EQ(plan->sysctls[0].path, "sys/net/ipv4/ip_forward");  // below the verified /proc
  EXPECT_EQ(plan->rlimits.size(), 1u);
  EXPECT_EQ(plan->uid, 1000u);
  EXPECT_EQ(plan->additional_gids, std::vector<gid_t>{5});
  EXPECT_EQ(plan->search_path, (std::vector<std::string>{"/opt/bin", "/bin"}));
  EXPECT_TRUE(plan->no_new_privileges);
  EXPECT_TRUE(plan->set_caps);
}

TEST(ChildPlanTest, SlashedSysctlKeepsDotsInsideComponents) {
  Spec spec = BaseSpec();
  spec.linux->sysctl["net/ipv4/conf/eth0.100/forwarding"] = "1";
  auto plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  ASSERT_EQ(plan->sysctls.size(), 1u);
  EXPECT_EQ(plan->sysctls[0].path, "sys/net/ipv4/conf/eth0.100/forwarding");
}

// A network namespace joined by path that is the runtime's own is the node's: net.* refused.
TEST(ChildPlanTest, NetSysctlInJoinedNodeNetnsIsRefused) {
  Spec spec = BaseSpec();
  for (Namespace& ns : spec.linux->namespaces) {
    if (ns.type == "network") {
      ns.path = "/proc/self/ns/net";
    }
  }
  spec.linux->sysctl["net.ipv4.ip_forward"] = "1";
  auto plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code(), Code::kInvalidArgument);
  EXPECT_NE(plan.error().message().find("net.ipv4.ip_forward"), std::string::npos)
      << plan.error().message();
}

// The init may mount on procfs only where the spec's destination is procfs's own place.
TEST(ChildPlanTest, OnlyProcAndLxcfsFilesMayLandOnProcfs) {
  Spec spec = BaseSpec();
  spec.mounts.push_back(Mount{"/proc/meminfo", "bind", "/proc/meminfo", {"bind", "ro"}, {}, {}});
  spec.mounts.push_back(Mount{"/data", "bind", "/tmp", {"bind"}, {}, {}});
  auto plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_TRUE(Find(*plan, "/proc", MountStep::Kind::kMount)->over_proc_allowed);
  EXPECT_TRUE(Find(*plan, "/proc/meminfo", MountStep::Kind::kMount)->over_proc_allowed);
  EXPECT_TRUE(Find(*plan, "/proc/meminfo", MountStep::Kind::kRemount)->over_proc_allowed);
  EXPECT_FALSE(Find(*plan, "/data", MountStep::Kind::kMount)->over_proc_allowed);
  EXPECT_FALSE(Find(*plan, "/sys", MountStep::Kind::kMount)->over_proc_allowed);
}

// runc's checkProcMount: a bind onto /proc must come from procfs.
TEST(ChildPlanTest, BindOnProcNeedsAProcfsSource) {
  Spec spec = BaseSpec();
  spec.mounts.push_back(Mount{"/proc", "bind", "/tmp", {"rbind"}, {}, {}});
  auto plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code(), Code::kInvalidArgument);
  EXPECT_NE(plan.error().message().find("only procfs may be bound on /proc"), std::string::npos)
      << plan.error().message();

  spec.mounts.back().source = "/proc";
  auto from_proc = BuildChildPlan({spec, nullptr, 0});
  EXPECT_TRUE(from_proc.ok()) << from_proc.error().ToString();
}

TEST(ChildPlanTest, AmbientCapabilitiesNeedPermittedAndInheritable) {
  Spec spec = BaseSpec();
  Capabilities& caps = *spec.process->capabilities;
  caps.inheritable = {"CAP_KILL"};
  caps.ambient = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};  // both permitted, one inheritable
  auto plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->caps.ambient, uint64_t{1} << 5);  // CAP_KILL only
}

TEST(ChildPlanTest, UnknownCapabilityIsInvalid) {
  Spec spec = BaseSpec();
  spec.process->capabilities->effective.push_back("CAP_TELEPATHY");
  auto plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code(), Code::kInvalidArgument);
}

TEST(ChildPlanTest, RenderedErrorsNameStepAndObject) {
  Spec spec = BaseSpec();
  auto plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_TRUE(plan.ok());
  Error e = RenderChildError(*plan, ChildReport{ChildStep::kMount, EPERM, 0});
  EXPECT_EQ(e.message(), "mount proc on /bundle/rootfs/proc (proc): EPERM (Operation not permitted)");
  EXPECT_EQ(e.code(), Code::kPermissionDenied);
  e = RenderChildError(*plan, ChildReport{ChildStep::kLookup, ENOENT, 0});
  EXPECT_EQ(e.code(), Code::kNotFound);
  EXPECT_EQ(e.message().rfind("find executable \"sh\"", 0), 0u);
}


TEST(ChildPlanTest, ContainerHooksAreStepsAndRuntimeHooksPauseTheInit) {
  Spec spec = BaseSpec();
  Hooks& hooks = spec.hooks.emplace();
  hooks.create_container = {Hook{"/bin/cc", {}, {"A=1"}, 3}};
  hooks.start_container = {Hook{"/bin/sc", {"sc", "-x"}, {}, std::nullopt}};
  auto plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_FALSE(plan->pause_for_runtime_hooks);
  ASSERT_EQ(plan->hooks.size(), 2u);
  EXPECT_EQ(plan->hooks[0].field, "hooks.createContainer[0]");
  EXPECT_FALSE(plan->hooks[0].start_container);
  EXPECT_EQ(plan->hooks[0].args, std::vector<std::string>{"/bin/cc"});  // args default to path
  EXPECT_EQ(plan->hooks[0].timeout_ms, 3000);
  EXPECT_EQ(plan->hooks[1].field, "hooks.startContainer[0]");
  EXPECT_TRUE(plan->hooks[1].start_container);
  EXPECT_EQ(plan->hooks[1].timeout_ms, -1);
  hooks.create_runtime = {Hook{"/bin/cr", {}, {}, std::nullopt}};
  plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->pause_for_runtime_hooks);
}

TEST(ChildPlanTest, HookFailuresReadLikeRuntimeHookFailures) {
  Spec spec = BaseSpec();
  spec.hooks.emplace().create_container = {Hook{"/bin/cc", {}, {}, 2}};
  auto plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_TRUE(plan.ok());
  Error e = RenderChildError(*plan, ChildReport{ChildStep::kHook, 0, 0, 3 << 8});
  EXPECT_EQ(e.message(), "hooks.createContainer[0] /bin/cc: exited with status 3");
  EXPECT_EQ(e.code(), Code::kInternal);
  e = RenderChildError(*plan, ChildReport{ChildStep::kHook, 0, 0, SIGKILL});
  EXPECT_EQ(e.message(), "hooks.createContainer[0] /bin/cc: killed by signal 9");
  e = RenderChildError(*plan, ChildReport{ChildStep::kHook, ETIMEDOUT, 0, 0});
  EXPECT_EQ(e.message(), "hooks.createContainer[0] /bin/cc: timed out after 2 s");
  EXPECT_EQ(e.code(), Code::kDeadlineExceeded);
  e = RenderChildError(*plan, ChildReport{ChildStep::kHook, ENOENT, 0, 0});
  EXPECT_EQ(e.code(), Code::kNotFound);
}

// The init's /proc refusals name the path and say why, as kInvalidArgument.
TEST(ChildPlanTest, ProcRefusalsNameThePath) {
  Spec spec = BaseSpec();
  spec.linux->sysctl["net.ipv4.ip_forward"] = "1";
  spec.linux->masked_paths = {"/masklink"};
  auto plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_TRUE(plan.ok());
  Error e = RenderChildError(*plan, ChildReport{ChildStep::kSysctl, EXDEV, 0, 0});
  EXPECT_EQ(e.code(), Code::kInvalidArgument);
  EXPECT_EQ(e.message().rfind("write sysctl /proc/sys/net/ipv4/ip_forward: not on procfs", 0), 0u)
      << e.message();
  e = RenderChildError(*plan, ChildReport{ChildStep::kMaskPath, ELOOP, 0, 0});
  EXPECT_EQ(e.message(), "mask /masklink: a symlink on the way (not followed)");
  e = RenderChildError(*plan, ChildReport{ChildStep::kMountTarget, EXDEV, 0, 0});
  EXPECT_EQ(e.message(),
            "create mount point /bundle/rootfs/proc: the destination resolves into "
            "the container's procfs");
}

TEST(ChildPlanTest, RsharedRootfsPropagation) {
  Spec spec = BaseSpec();
  spec.linux->rootfs_propagation = "rshared";
  auto plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->root_propagation, static_cast<unsigned long>(MS_SHARED | MS_REC));
  Error e = RenderChildError(*plan, ChildReport{ChildStep::kRootPropagation, EPERM, 1, 0});
  EXPECT_EQ(e.message().rfind("make the mount holding /bundle/rootfs private", 0), 0u) << e.message();
}


TEST(ChildPlanTest, RecursiveReadOnlyWithoutMountSetattrSaysWhy) {
  Spec spec = BaseSpec();
  Mount m;
  m.destination = "/data";
  m.type = "bind";
  m.source = "/";
  m.options = {"rbind", "rro"};
  spec.mounts.push_back(m);
  auto plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  ASSERT_TRUE(plan->mounts.back().recursive_readonly);
  int32_t index = static_cast<int32_t>(plan->mounts.size() - 1);
  Error e = RenderChildError(*plan, ChildReport{ChildStep::kMountRecursiveReadonly, ENOSYS, index, 0});
  EXPECT_EQ(e.code(), Code::kUnimplemented);
  EXPECT_EQ(e.message(),
            "make /bundle/rootfs/data recursively read-only: the \"rro\" mount option needs "
            "mount_setattr(2), which this kernel lacks (Linux 5.12 or later)");
}


TEST(ChildPlanTest, IdmapTakesTheMountsOrTheContainersMappings) {
  Spec spec = BaseSpec();
  Mount m;
  m.destination = "/data";
  m.type = "bind";
  m.source = "/";
  m.options = {"rbind", "ridmap"};
  m.uid_mappings = {IdMapping{0, 1000, 10}};
  m.gid_mappings = {IdMapping{0, 2000, 10}};
  spec.mounts.push_back(m);
  auto plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  const MountStep* step = Find(*plan, "/data", MountStep::Kind::kMount);
  ASSERT_NE(step, nullptr);
  EXPECT_TRUE(step->idmap);
  EXPECT_TRUE(step->idmap_recursive);
  EXPECT_EQ(step->uid_mappings[0].host_id, 1000u);
  EXPECT_EQ(step->gid_mappings[0].host_id, 2000u);
  EXPECT_EQ(step->tree_fd, -1);  // made by the runtime just before clone
  spec.mounts.back().uid_mappings.clear();
  spec.mounts.back().gid_mappings.clear();
  plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().code(), Code::kInvalidArgument);
  spec.linux->uid_mappings = {IdMapping{0, 100000, 65536}};
  spec.linux->gid_mappings = {IdMapping{0, 100000, 65536}};
  plan = BuildChildPlan({spec, nullptr, 0});
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_EQ(Find(*plan, "/data", MountStep::Kind::kMount)->uid_mappings[0].host_id, 100000u);
}

}  // namespace
}  // namespace cricket::oci
