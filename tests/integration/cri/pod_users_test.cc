// Which user a container runs as, end to end through cricketd: supplemental groups and their
// policy, ContainerStatus.user, and user namespaces (critest's specs, ported). Root; images
// from the registry fixture.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <regex>
#include <string>
#include <vector>

#include "common/files.h"
#include "tests/integration/cri/pod_fixture.h"

namespace cricket {
namespace {

using namespace std::chrono_literals;
namespace v1 = ::runtime::v1;
using ::cricket::testing::PodLifecycleTest;

// critest v1.32 "SupplementalGroupsPolicy" (pkg/validate/security_context_linux.go), ported:
// the feature is advertised; the first process and an exec'd one get the primary group and
// supplemental_groups, and ContainerStatus reports user.linux. (The fixture image's /etc/group
// gives uid 1000 no extra memberships, so Merge and Strict agree here; the unit test
// ContainerSpecTest.UsersFromImageAndConfig covers where they differ.)
TEST_F(PodLifecycleTest, SupplementalGroupsPolicy) {
  grpc::ClientContext status_ctx;
  v1::StatusResponse status;
  ASSERT_TRUE(runtime_->Status(&status_ctx, {}, &status).ok());
  EXPECT_TRUE(status.features().supplemental_groups_policy());

  v1::PodSandboxConfig pod_config = PodConfig("sgp");
  std::string pod = RunPod(pod_config);
  for (auto policy : {v1::SupplementalGroupsPolicy::Merge, v1::SupplementalGroupsPolicy::Strict}) {
    const std::string name = "sgp-" + std::to_string(policy);
    grpc::ClientContext ctx;
    v1::CreateContainerRequest req;
    req.set_pod_sandbox_id(pod);
    *req.mutable_sandbox_config() = pod_config;
    v1::ContainerConfig& c = *req.mutable_config();
    c.mutable_metadata()->set_name(name);
    c.mutable_image()->set_image(image_);
    c.add_command("/bin/sh");
    c.add_args("-c");
    c.add_args("busybox id -G; exec busybox sleep 1000");
    c.set_log_path(name + ".log");
    auto* sc = c.mutable_linux()->mutable_security_context();
    sc->mutable_run_as_user()->set_value(1000);
    sc->add_supplemental_groups(1234);
    sc->set_supplemental_groups_policy(policy);
    v1::CreateContainerResponse resp;
    grpc::Status created = runtime_->CreateContainer(&ctx, req, &resp);
    ASSERT_TRUE(created.ok()) << created.error_message();
    ASSERT_TRUE(StartContainer(resp.container_id()).ok());
    EXPECT_TRUE(WaitFor([&] { return ReadLog("sgp", name).find(" stdout F ") != std::string::npos; }))
        << ReadLog("sgp", name);
    EXPECT_NE(ReadLog("sgp", name).find(" stdout F 1000 1234\n"), std::string::npos)
        << ReadLog("sgp", name);
    v1::ContainerStatus got = Status(resp.container_id());
    ASSERT_TRUE(got.has_user());
    EXPECT_EQ(got.user().linux().uid(), 1000);
    EXPECT_EQ(got.user().linux().gid(), 1000);
    std::vector<int64_t> groups(got.user().linux().supplemental_groups().begin(),
                                got.user().linux().supplemental_groups().end());
    std::sort(groups.begin(), groups.end());
    EXPECT_EQ(groups, (std::vector<int64_t>{1000, 1234}));
    v1::ExecSyncResponse out;
    ASSERT_TRUE(Exec(resp.container_id(), "busybox id -G", &out).ok());
    EXPECT_EQ(out.stdout(), "1000 1234\n");
  }
  RemovePods();
}

// ContainerStatus.user comes from the container's record, kept at create: after a restart it is
// still right, even with the bundle's config.json out of the way (events fill it for every
// container of a pod, too often to read each spec back).
TEST_F(PodLifecycleTest, ContainerUserSurvivesARestartWithoutTheBundleSpec) {
  v1::PodSandboxConfig pod_config = PodConfig("user");
  std::string pod = RunPod(pod_config);
  std::string ctr;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "c", "exec busybox sleep 1000", &ctr, false,
                              [](v1::ContainerConfig& c) {
                                auto* sc = c.mutable_linux()->mutable_security_context();
                                sc->mutable_run_as_user()->set_value(1000);
                                sc->add_supplemental_groups(1234);
                              })
                  .ok());
  ASSERT_TRUE(StartContainer(ctr).ok());
  daemon_->Signal(SIGTERM);
  ASSERT_TRUE(daemon_->WaitExit(10s).has_value());
  Start();

  const std::string spec = state() + "/containers/" + ctr + "/config.json";
  ASSERT_EQ(::rename(spec.c_str(), (spec + ".aside").c_str()), 0);
  v1::ContainerStatus got = Status(ctr);
  // Back before any assertion, so teardown finds the bundle whole.
  ASSERT_EQ(::rename((spec + ".aside").c_str(), spec.c_str()), 0);

  v1::LinuxContainerUser want;
  want.set_uid(1000);
  want.set_gid(1000);
  want.add_supplemental_groups(1000);  // the primary group, then the pod's, sorted
  want.add_supplemental_groups(1234);
  EXPECT_EQ(got.user().linux().SerializeAsString(), want.SerializeAsString())
      << got.user().DebugString();
  RemovePods();
}

// critest v1.32 "UserNamespaces" (pkg/validate/security_context_linux.go), the checks that need
// no user namespace: NODE runs with the node's mappings; more than one mapping, container id 0
// unmapped, CONTAINER and TARGET are refused. Status advertises user namespaces (POD runs:
// PodUserNamespace).
TEST_F(PodLifecycleTest, UserNamespaceOptions) {
  grpc::ClientContext status_ctx;
  v1::StatusResponse status;
  ASSERT_TRUE(runtime_->Status(&status_ctx, {}, &status).ok());
  ASSERT_EQ(status.runtime_handlers_size(), 1);
  EXPECT_TRUE(status.runtime_handlers(0).features().user_namespaces());

  v1::PodSandboxConfig node = PodConfig("userns-node");
  node.mutable_linux()->mutable_security_context()->mutable_namespace_options()
      ->mutable_userns_options()->set_mode(v1::NODE);
  std::string pod = RunPod(node);
  std::string id;
  ASSERT_TRUE(CreateContainer(pod, node, "maps", "busybox cat /proc/self/uid_map; exec busybox sleep 1000",
                              &id).ok());
  ASSERT_TRUE(StartContainer(id).ok());
  std::string host_map = ReadFile("/proc/self/uid_map").value_or("?");
  EXPECT_TRUE(WaitFor([&] { return ReadLog("userns-node", "maps").find(" stdout F ") != std::string::npos; }));
  std::string first = host_map.substr(0, host_map.find('\n'));
  EXPECT_NE(ReadLog("userns-node", "maps").find(" stdout F " + first), std::string::npos)
      << ReadLog("userns-node", "maps") << " vs " << host_map;

  auto refused = [&](const std::string& name, const std::function<void(v1::UserNamespace&)>& set) {
    v1::PodSandboxConfig config = PodConfig(name);
    set(*config.mutable_linux()->mutable_security_context()->mutable_namespace_options()
             ->mutable_userns_options());
    grpc::ClientContext ctx;
    v1::RunPodSandboxRequest req;
    *req.mutable_config() = config;
    v1::RunPodSandboxResponse resp;
    return runtime_->RunPodSandbox(&ctx, req, &resp).error_code();
  };
  auto map = [](google::protobuf::RepeatedPtrField<v1::IDMapping>* maps, uint32_t container_id,
                uint32_t host_id) {
    v1::IDMapping* m = maps->Add();
    m->set_container_id(container_id);
    m->set_host_id(host_id);
    m->set_length(100000);
  };
  EXPECT_EQ(refused("two-maps", [&](v1::UserNamespace& u) {
              u.set_mode(v1::POD);
              for (auto* maps : {u.mutable_uids(), u.mutable_gids()}) {
                map(maps, 0, 1000);
                map(maps, 0, 2000);
              }
            }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused("no-root", [&](v1::UserNamespace& u) {
              u.set_mode(v1::POD);
              map(u.mutable_uids(), 1, 1000);
              map(u.mutable_gids(), 1, 1000);
            }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused("container", [](v1::UserNamespace& u) { u.set_mode(v1::CONTAINER); }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused("target", [](v1::UserNamespace& u) { u.set_mode(v1::TARGET); }),
            grpc::StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext list_ctx;
  v1::ListPodSandboxResponse pods;
  ASSERT_TRUE(runtime_->ListPodSandbox(&list_ctx, {}, &pods).ok());
  EXPECT_EQ(pods.items_size(), 1) << "a refused pod was left behind";
  RemovePods();
}

// critest v1.32 "runtime should support NamespaceMode_POD", ported and extended: a pod mapping
// container 0 to host 100000 (65536 ids). Its container sees that map, is root inside, sees the
// image's files and the pod's /etc/hosts as root's (idmapped rootfs and binds), writes to a
// plain host-path mount as host id 100000 and through a mount with CRI mappings as the mapped
// id; two containers share the user namespace, which is not the node's; exec enters it too.
TEST_F(PodLifecycleTest, PodUserNamespace) {
  v1::PodSandboxConfig config = PodConfig("userns-pod");
  auto& userns = *config.mutable_linux()->mutable_security_context()->mutable_namespace_options()
                      ->mutable_userns_options();
  userns.set_mode(v1::POD);
  for (auto* maps : {userns.mutable_uids(), userns.mutable_gids()}) {
    v1::IDMapping* m = maps->Add();
    m->set_host_id(100000);
    m->set_length(65536);
  }
  const std::string plain = dir_.Join("userns-plain");
  const std::string mapped = dir_.Join("userns-mapped");
  for (const std::string& d : {plain, mapped}) {
    std::filesystem::create_directories(d);
    std::filesystem::permissions(d, std::filesystem::perms::all);
  }
  std::string pod = RunPod(config);
  ASSERT_FALSE(pod.empty());
  auto with_mounts = [&](v1::ContainerConfig& c) {
    c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->CopyFrom(
        config.linux().security_context().namespace_options());
    v1::Mount* m = c.add_mounts();
    m->set_host_path(plain);
    m->set_container_path("/plain");
    m = c.add_mounts();
    m->set_host_path(mapped);
    m->set_container_path("/mapped");
    *m->mutable_uidmappings() = userns.uids();
    *m->mutable_gidmappings() = userns.gids();
  };
  std::string a;
  std::string b;
  ASSERT_TRUE(CreateContainer(pod, config, "a", "exec busybox sleep 1000", &a, false, with_mounts)
                  .ok());
  ASSERT_TRUE(StartContainer(a).ok());
  ASSERT_TRUE(CreateContainer(pod, config, "b", "exec busybox sleep 1000", &b, false, with_mounts)
                  .ok());
  ASSERT_TRUE(StartContainer(b).ok());

  auto exec = [&](const std::string& id, const std::string& script) {
    v1::ExecSyncResponse out;
    grpc::Status status = Exec(id, script, &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(out.exit_code(), 0) << script << ": " << out.stderr();
    return out.stdout();
  };
  std::string map = exec(a, "busybox cat /proc/self/uid_map");
  EXPECT_TRUE(std::regex_search(map, std::regex(R"(^\s*0\s+100000\s+65536\n$)"))) << map;
  map = exec(a, "busybox cat /proc/self/gid_map");
  EXPECT_TRUE(std::regex_search(map, std::regex(R"(^\s*0\s+100000\s+65536\n$)"))) << map;
  EXPECT_EQ(exec(a, "busybox id -u; busybox id -g"), "0\n0\n");
  EXPECT_EQ(exec(a, "busybox stat -c %u:%g / /bin /etc/hosts /etc/resolv.conf"),
            "0:0\n0:0\n0:0\n0:0\n");
  EXPECT_EQ(exec(a, "busybox touch /etc/made-inside && busybox stat -c %u /etc/made-inside"),
            "0\n");
  exec(a, "busybox touch /plain/file /mapped/file");
  struct stat st {};
  ASSERT_EQ(::stat((plain + "/file").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 100000U);
  EXPECT_EQ(st.st_gid, 100000U);
  ASSERT_EQ(::stat((mapped + "/file").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0U) << "a mount with the pod's mappings stores the container's ids";

  std::string ns_a = exec(a, "busybox readlink /proc/self/ns/user");
  std::string ns_b = exec(b, "busybox readlink /proc/self/ns/user");
  EXPECT_EQ(ns_a, ns_b);
  EXPECT_NE(ns_a, std::filesystem::read_symlink("/proc/self/ns/user").string() + "\n");
  EXPECT_EQ(exec(a, "busybox readlink /proc/1/ns/user"), ns_a) << "pid 1 is the pod's infra";

  // A pod without user namespace options keeps the node's.
  v1::PodSandboxConfig plain_config = PodConfig("userns-none");
  std::string plain_pod = RunPod(plain_config);
  std::string c;
  ASSERT_TRUE(CreateContainer(plain_pod, plain_config, "c", "exec busybox sleep 1000", &c).ok());
  ASSERT_TRUE(StartContainer(c).ok());
  EXPECT_EQ(exec(c, "busybox readlink /proc/self/ns/user"),
            std::filesystem::read_symlink("/proc/self/ns/user").string() + "\n");
  RemovePods();
}

}  // namespace
}  // namespace cricket
