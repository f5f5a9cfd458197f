#include "cri/container_spec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "common/files.h"
#include "oci/spec_json.h"
#include "tests/support/temp_dir.h"

namespace cricket::cri {
namespace {

using ::cricket::testing::TempDir;
namespace v1 = ::runtime::v1;

class ContainerSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.Join("rootfs/etc"));
    ASSERT_TRUE(WriteFileAtomic(dir_.Join("rootfs/etc/passwd"),
                                "root:x:0:0:root:/root:/bin/sh\n"
                                "www-data:x:33:33:www-data:/var/www:/bin/sh\n"
                                "app:x:1000:1000::/home/app:/bin/sh\n",
                                0644)
                    .ok());
    ASSERT_TRUE(WriteFileAtomic(dir_.Join("rootfs/etc/group"),
                                "root:x:0:\nwww-data:x:33:\nextra:x:50000:app\ngrp:x:1004:\n",
                                0644)
                    .ok());
    image_.entrypoint = {"/entry"};
    image_.cmd = {"--serve"};
    image_.env = {"PATH=/usr/bin", "FROM_IMAGE=1", "OVERRIDE=image"};
    image_.working_dir = "/srv";
    sandbox_.id = "sb";
    sandbox_.infra_pid = 4242;
    sandbox_.netns_path = "/run/cricket/netns/sb";
    sandbox_.hostname = "pod-host";
    sandbox_.hosts_path = "/run/cricket/sandboxes/sb/hosts";
  }

  Result<oci::Spec> Build() {
    ContainerSpecInput in;
    in.container_id = "c1";
    in.config = &config_;
    in.image = &image_;
    in.sandbox = sandbox_;
    in.rootfs = dir_.Join("rootfs");
    if (!mountinfo_path_.empty()) {
      in.mountinfo_path = mountinfo_path_;
    }
    return BuildContainerSpec(in);
  }

  static bool Has(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  }

  TempDir dir_;
  v1::ContainerConfig config_;
  storage::ImageConfig image_;
  SandboxContext sandbox_;
  std::string mountinfo_path_;
};

TEST_F(ContainerSpecTest, KubernetesCommandRules) {
  EXPECT_EQ(EffectiveArgs(config_, image_), (std::vector<std::string>{"/entry", "--serve"}));
  config_.add_args("--debug");
  EXPECT_EQ(EffectiveArgs(config_, image_), (std::vector<std::string>{"/entry", "--debug"}));
  config_.add_command("/bin/sh");
  EXPECT_EQ(EffectiveArgs(config_, image_), (std::vector<std::string>{"/bin/sh", "--debug"}));
  config_.clear_args();
  EXPECT_EQ(EffectiveArgs(config_, image_), (std::vector<std::string>{"/bin/sh"}));
}

TEST_F(ContainerSpecTest, EnvCwdHostnameAndNamespaces) {
  auto* kv = config_.add_envs();
  kv->set_key("OVERRIDE");
  kv->set_value("config");
  auto spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  const auto& env = spec->process->env;
  EXPECT_TRUE(Has(env, "FROM_IMAGE=1"));
  EXPECT_TRUE(Has(env, "OVERRIDE=config"));
  EXPECT_FALSE(Has(env, "OVERRIDE=image"));
  EXPECT_EQ(spec->process->cwd, "/srv");
  EXPECT_EQ(spec->hostname, "pod-host");
  std::map<std::string, std::string> ns;
  for (const auto& n : spec->linux->namespaces) {
    ns[n.type] = n.path;
  }
  EXPECT_EQ(ns.at("network"), "/run/cricket/netns/sb");
  EXPECT_EQ(ns.at("pid"), "/proc/4242/ns/pid");
  EXPECT_EQ(ns.at("ipc"), "/proc/4242/ns/ipc");
  EXPECT_EQ(ns.at("uts"), "/proc/4242/ns/uts");
  EXPECT_EQ(ns.at("mount"), "");
  EXPECT_EQ(spec->linux->cgroups_path, "/cricket/c1");
  bool hosts = false;
  for (const auto& m : spec->mounts) {
    hosts = hosts || (m.destination == "/etc/hosts" && m.source == sandbox_.hosts_path);
  }
  EXPECT_TRUE(hosts);
}

// CRI userns_options POD: the container joins the infra process's user namespace, carries the
// pod's mappings (for idmapped mounts), the pod's name files are idmapped and a CRI mount's own
// mappings make it an idmapped mount. Without the option no user namespace is named.
TEST_F(ContainerSpecTest, PodUserNamespaceIsJoinedAndMountsIdmapped) {
  config_.add_command("/bin/true");
  auto plain = Build();
  ASSERT_TRUE(plain.ok()) << plain.error().ToString();
  EXPECT_TRUE(std::none_of(plain->linux->namespaces.begin(), plain->linux->namespaces.end(),
                           [](const oci::Namespace& ns) { return ns.type == "user"; }));

  auto& userns = *sandbox_.namespaces.mutable_userns_options();
  userns.set_mode(v1::POD);
  for (auto* maps : {userns.mutable_uids(), userns.mutable_gids()}) {
    v1::IDMapping* m = maps->Add();
    m->set_host_id(100000);
    m->set_length(65536);
  }
  v1::Mount* mount = config_.add_mounts();
  mount->set_host_path(dir_.path());
  mount->set_container_path("/data");
  *mount->mutable_uidmappings() = userns.uids();
  auto spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  const auto& namespaces = spec->linux->namespaces;
  EXPECT_TRUE(std::any_of(namespaces.begin(), namespaces.end(), [](const oci::Namespace& ns) {
    return ns.type == "user" && ns.path == "/proc/4242/ns/user";
  }));
  ASSERT_EQ(spec->linux->uid_mappings.size(), 1U);
  EXPECT_EQ(spec->linux->uid_mappings[0].host_id, 100000U);
  EXPECT_EQ(spec->linux->uid_mappings[0].size, 65536U);
  ASSERT_EQ(spec->linux->gid_mappings.size(), 1U);
  for (const oci::Mount& m : spec->mounts) {
    if (m.destination == "/etc/hosts") {
      EXPECT_TRUE(Has(m.options, "idmap"));
    }
    if (m.destination == "/data") {
      ASSERT_EQ(m.uid_mappings.size(), 1U);
      EXPECT_EQ(m.uid_mappings[0].host_id, 100000U);
    }
  }
}

TEST_F(ContainerSpecTest, HostNetworkJoinsNodeNamespacesAndSetsNoHostname) {
  sandbox_.namespaces.set_network(v1::NODE);
  sandbox_.netns_path.clear();
  auto spec = Build();
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->hostname, "");
  for (const auto& n : spec->linux->namespaces) {
    EXPECT_NE(n.type, "network");
    EXPECT_NE(n.type, "uts");
  }
}

// The node's mounts as /proc/self/mountinfo shows them: "/" private, /shared shared, /slave a
// slave, and a shared mount stacked on the private /stack.
constexpr const char* kMountinfo =
    "21 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
    "30 21 0:40 / /shared rw shared:7 - tmpfs tmpfs rw\n"
    "31 21 0:41 / /slave rw master:7 - tmpfs tmpfs rw\n"
    "32 21 0:42 / /stack rw - tmpfs tmpfs rw\n"
    "33 32 0:43 / /stack rw shared:9 - tmpfs tmpfs rw\n"
    "34 21 0:44 / /with\\040space rw shared:10 - tmpfs tmpfs rw\n";

TEST_F(ContainerSpecTest, PropagationSetsTheRootfsPropagation) {
  ASSERT_TRUE(WriteFileAtomic(dir_.Join("mountinfo"), kMountinfo, 0644).ok());
  mountinfo_path_ = dir_.Join("mountinfo");
  auto* m = config_.add_mounts();
  m->set_container_path("/mnt/slave");
  m->set_host_path("/slave/dir");
  m->set_propagation(v1::PROPAGATION_HOST_TO_CONTAINER);
  auto spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  EXPECT_EQ(spec->linux->rootfs_propagation, "rslave");
  auto slave = std::find_if(spec->mounts.begin(), spec->mounts.end(),
                            [](const oci::Mount& mount) { return mount.destination == "/mnt/slave"; });
  ASSERT_NE(slave, spec->mounts.end());
  EXPECT_EQ(slave->options, (std::vector<std::string>{"rbind", "rslave", "rw"}));
  auto* shared = config_.add_mounts();
  shared->set_container_path("/mnt/shared");
  shared->set_host_path("/shared/sub");
  shared->set_propagation(v1::PROPAGATION_BIDIRECTIONAL);
  shared->set_readonly(true);
  spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  // containerd: rshared as soon as one mount is bidirectional, whatever the order.
  EXPECT_EQ(spec->linux->rootfs_propagation, "rshared");
  auto bidi = std::find_if(spec->mounts.begin(), spec->mounts.end(),
                           [](const oci::Mount& mount) { return mount.destination == "/mnt/shared"; });
  ASSERT_NE(bidi, spec->mounts.end());
  EXPECT_EQ(bidi->options, (std::vector<std::string>{"rbind", "rshared", "ro"}));
}

TEST_F(ContainerSpecTest, BidirectionalNeedsASharedHostMount) {
  ASSERT_TRUE(WriteFileAtomic(dir_.Join("mountinfo"), kMountinfo, 0644).ok());
  mountinfo_path_ = dir_.Join("mountinfo");
  auto* m = config_.add_mounts();
  m->set_container_path("/mnt/x");
  m->set_host_path("/slave/dir");
  m->set_propagation(v1::PROPAGATION_BIDIRECTIONAL);
  auto spec = Build();
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(spec.error().message(),
            "mounts[0].host_path \"/slave/dir\" is on mount \"/slave\", which is not shared: "
            "BIDIRECTIONAL propagation needs it (mount --make-rshared /slave)");
  // The topmost of two stacked mounts decides; a private one refuses host-to-container too.
  m->set_host_path("/stack/a");
  EXPECT_TRUE(Build().ok());
  m->set_host_path("/sharedness");  // a prefix of /shared, not below it: "/" holds it
  m->set_propagation(v1::PROPAGATION_HOST_TO_CONTAINER);
  EXPECT_EQ(Build().error().code(), Code::kFailedPrecondition);
  m->set_host_path("/with space/d");
  m->set_propagation(v1::PROPAGATION_BIDIRECTIONAL);
  EXPECT_TRUE(Build().ok());
}

TEST_F(ContainerSpecTest, RecursiveReadOnlyNeedsReadonlyAndPrivate) {
  auto* m = config_.add_mounts();
  m->set_container_path("/mnt");
  m->set_host_path("/tmp");
  m->set_recursive_read_only(true);
  auto spec = Build();
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(spec.error().message(), "mounts[0].recursive_read_only needs readonly");
  m->set_readonly(true);
  m->set_propagation(v1::PROPAGATION_HOST_TO_CONTAINER);
  spec = Build();
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().message(),
            "mounts[0].recursive_read_only needs propagation PROPAGATION_PRIVATE, got "
            "PROPAGATION_HOST_TO_CONTAINER");
  m->set_propagation(v1::PROPAGATION_PRIVATE);
  spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  auto mnt = std::find_if(spec->mounts.begin(), spec->mounts.end(),
                          [](const oci::Mount& mount) { return mount.destination == "/mnt"; });
  ASSERT_NE(mnt, spec->mounts.end());
  EXPECT_EQ(mnt->options, (std::vector<std::string>{"rbind", "rprivate", "ro", "rro"}));
  m->set_recursive_read_only(false);
  spec = Build();
  ASSERT_TRUE(spec.ok());
  EXPECT_FALSE(Has(spec->mounts.back().options, "rro"));
}

TEST_F(ContainerSpecTest, NoCommandAnywhereIsInvalid) {
  image_.entrypoint.clear();
  image_.cmd.clear();
  EXPECT_EQ(Build().error().code(), Code::kInvalidArgument);
}

TEST_F(ContainerSpecTest, UsersFromImageAndConfig) {
  image_.user = "1003:1004";
  auto spec = Build();
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->process->user.uid, 1003u);
  EXPECT_EQ(spec->process->user.gid, 1004u);

  image_.user = "www-data:grp";
  spec = Build();
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->process->user.uid, 33u);
  EXPECT_EQ(spec->process->user.gid, 1004u);

  config_.mutable_linux()->mutable_security_context()->set_run_as_username("app");
  config_.mutable_linux()->mutable_security_context()->add_supplemental_groups(7);
  spec = Build();
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->process->user.uid, 1000u);
  EXPECT_EQ(spec->process->user.gid, 1000u);
  // Merge (the default): the primary group, the pod's and the image's memberships.
  EXPECT_EQ(spec->process->user.additional_gids, (std::vector<uint32_t>{7, 1000, 50000}));
  config_.mutable_linux()->mutable_security_context()->set_supplemental_groups_policy(
      v1::SupplementalGroupsPolicy::Strict);
  spec = Build();
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->process->user.additional_gids, (std::vector<uint32_t>{7, 1000}));

  config_.mutable_linux()->mutable_security_context()->set_run_as_username("nobody-here");
  EXPECT_EQ(Build().error().message(), "user \"nobody-here\" is not in the image's /etc/passwd");
}

TEST_F(ContainerSpecTest, GroupWithoutUserIsRefused) {
  config_.mutable_linux()->mutable_security_context()->mutable_run_as_group()->set_value(5);
  auto spec = Build();
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().code(), Code::kInvalidArgument);
  config_.mutable_linux()->mutable_security_context()->mutable_run_as_user()->set_value(1);
  spec = Build();
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->process->user.gid, 5u);
}

TEST_F(ContainerSpecTest, CapabilitiesDropAllThenAdd) {
  auto* caps = config_.mutable_linux()->mutable_security_context()->mutable_capabilities();
  caps->add_drop_capabilities("ALL");
  caps->add_add_capabilities("net_admin");
  auto spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  EXPECT_EQ(spec->process->capabilities->bounding, (std::vector<std::string>{"CAP_NET_ADMIN"}));
  EXPECT_EQ(spec->process->capabilities->permitted, (std::vector<std::string>{"CAP_NET_ADMIN"}));
  caps->add_add_capabilities("CAP_BOGUS");
  EXPECT_EQ(Build().error().message(), "unknown capability \"CAP_BOGUS\"");
}

TEST_F(ContainerSpecTest, DefaultCapsDropOne) {
  config_.mutable_linux()->mutable_security_context()->mutable_capabilities()
      ->add_drop_capabilities("NET_RAW");
  auto spec = Build();
  ASSERT_TRUE(spec.ok());
  EXPECT_FALSE(Has(spec->process->capabilities->effective, "CAP_NET_RAW"));
  EXPECT_TRUE(Has(spec->process->capabilities->effective, "CAP_CHOWN"));
}

TEST_F(ContainerSpecTest, PrivilegedGetsEverythingAndNoSeccomp) {
  auto* sc = config_.mutable_linux()->mutable_security_context();
  sc->set_privileged(true);
  sc->mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  auto spec = Build();
  ASSERT_TRUE(spec.ok());
  EXPECT_TRUE(Has(spec->process->capabilities->bounding, "CAP_SYS_ADMIN"));
  EXPECT_FALSE(spec->linux->seccomp.has_value());
  EXPECT_TRUE(spec->linux->masked_paths.empty());
}

TEST_F(ContainerSpecTest, SeccompKinds) {
  auto* sc = config_.mutable_linux()->mutable_security_context();
  auto spec = Build();
  EXPECT_FALSE(spec->linux->seccomp.has_value());  // nothing asked: unconfined
  sc->mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  spec = Build();
  ASSERT_TRUE(spec.ok());
  ASSERT_TRUE(spec->linux->seccomp.has_value());
  EXPECT_EQ(spec->linux->seccomp->default_action, "SCMP_ACT_ERRNO");
  sc->mutable_seccomp()->set_profile_type(v1::SecurityProfile::Localhost);
  sc->mutable_seccomp()->set_localhost_ref(dir_.Join("missing.json"));
  EXPECT_EQ(Build().error().code(), Code::kNotFound);
  ASSERT_TRUE(WriteFileAtomic(dir_.Join("p.json"),
                              R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
                                 {"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]})",
                              0644)
                  .ok());
  sc->mutable_seccomp()->set_localhost_ref(dir_.Join("p.json"));
  spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  EXPECT_EQ(spec->linux->seccomp->default_action, "SCMP_ACT_ALLOW");
}

TEST_F(ContainerSpecTest, ResourcesAndRelativeMountRefused) {
  auto* r = config_.mutable_linux()->mutable_resources();
  r->set_memory_limit_in_bytes(64 << 20);
  r->set_cpu_shares(512);
  auto spec = Build();
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(*spec->linux->resources->memory->limit, 64 << 20);
  EXPECT_EQ(*spec->linux->resources->cpu->shares, 512u);
  auto* m = config_.add_mounts();
  m->set_container_path("relative");
  m->set_host_path("/tmp");
  EXPECT_EQ(Build().error().message(),
            "mounts[0].container_path must be absolute, got \"relative\"");
}

// kubelet sends a limit for every page size of the node (0: none allowed); the runtime turns
// each into hugetlb.<size>.max (v2) or .limit_in_bytes (v1).
TEST_F(ContainerSpecTest, HugepageLimitsReachTheSpec) {
  auto* r = config_.mutable_linux()->mutable_resources();
  auto* two_mb = r->add_hugepage_limits();
  two_mb->set_page_size("2MB");
  two_mb->set_limit(4 << 21);
  auto* one_gb = r->add_hugepage_limits();
  one_gb->set_page_size("1GB");
  one_gb->set_limit(0);
  auto spec = Build();
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  EXPECT_EQ(spec->linux->resources->hugepage_limits,
            (std::vector<oci::HugepageLimit>{{"2MB", 4 << 21}, {"1GB", 0}}));
  // The JSON the runtime reads.
  EXPECT_NE(oci::SpecToJson(*spec).find("\"hugepageLimits\""), std::string::npos);
}

// The size becomes part of a cgroup file name: anything but <number><unit>B is refused.
TEST_F(ContainerSpecTest, BadHugepageSizeIsRefusedNamingTheField) {
  for (const char* size : {"", "2M", "MB", "2mb", "2XB", "../../x", "2MB/"}) {
    auto* r = config_.mutable_linux()->mutable_resources();
    r->clear_hugepage_limits();
    r->add_hugepage_limits()->set_page_size("2MB");
    r->add_hugepage_limits()->set_page_size(size);
    auto spec = Build();
    ASSERT_FALSE(spec.ok()) << size;
    EXPECT_EQ(spec.error().code(), Code::kInvalidArgument);
    EXPECT_NE(spec.error().message().find("linux.resources.hugepage_limits[1].page_size"),
              std::string::npos)
        << spec.error().message();
  }
}

// CVE-2019-16884: a volume on or under /proc (or /sys) is refused, however the path is spelt.
TEST_F(ContainerSpecTest, MountsOnProcAndSysAreRefused) {
  for (const char* path : {"/proc", "/proc/x", "/./proc/", "//proc/sys", "/a/../proc", "/sys",
                           "/sys/kernel", "/sys/fs/cgroup/"}) {
    config_.clear_mounts();
    auto* m = config_.add_mounts();
    m->set_container_path(path);
    m->set_host_path("/tmp");
    auto spec = Build();
    ASSERT_FALSE(spec.ok()) << path;
    EXPECT_EQ(spec.error().code(), Code::kInvalidArgument);
    const std::string prefix = "mounts[0].container_path \"" + std::string(path) + "\": no mounts";
    EXPECT_EQ(spec.error().message().rfind(prefix, 0), 0u) << spec.error().message();
  }
  for (const char* path : {"/data", "/procfs", "/system", "/mnt/proc"}) {
    config_.clear_mounts();
    auto* m = config_.add_mounts();
    m->set_container_path(path);
    m->set_host_path("/tmp");
    auto spec = Build();
    EXPECT_TRUE(spec.ok()) << path << ": " << spec.error().ToString();
  }
}

}  // namespace
}  // namespace cricket::cri
