#include "oci/spec_json.h"

#include <gtest/gtest.h>

namespace cricket::oci {
namespace {

constexpr std::string_view kConfig = R"({
  "ociVersion": "1.0.2",
  "process": {
    "terminal": true,
    "user": {"uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [5, 6]},
    "args": ["sh", "-c", "true"],
    "env": ["PATH=/bin"],
    "cwd": "/",
    "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"]},
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512}],
    "noNewPrivileges": true,
    "oomScoreAdj": -100,
    "somethingNew": {"ignored": true}
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "box",
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid"]}],
  "annotations": {"a": "b"},
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network", "path": "/var/run/netns/x"}],
    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "cgroupsPath": "/crtest/x",
    "resources": {
      "memory": {"limit": 67108864, "swap": -1},
      "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
      "pids": {"limit": 32},
      "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}],
      "unified": {"memory.high": "max"}
    },
    "seccomp": {
      "defaultAction": "SCMP_ACT_ALLOW",
      "architectures": ["SCMP_ARCH_X86_64"],
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                    "args": [{"index": 1, "value": 448, "op": "SCMP_CMP_EQ"}]}]
    },
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"],
    "rootfsPropagation": "rslave"
  }
})";

TEST(SpecJsonTest, ParsesLinuxFields) {
  auto spec = ParseSpec(kConfig);
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  EXPECT_EQ(spec->oci_version, "1.0.2");
  ASSERT_TRUE(spec->process.has_value());
  EXPECT_TRUE(spec->process->terminal);
  EXPECT_EQ(spec->process->user.uid, 1000u);
  EXPECT_EQ(spec->process->user.umask, 18u);
  EXPECT_EQ(spec->process->user.additional_gids, (std::vector<uint32_t>{5, 6}));
  EXPECT_EQ(spec->process->args.size(), 3u);
  EXPECT_EQ(spec->process->capabilities->bounding, std::vector<std::string>{"CAP_KILL"});
  EXPECT_EQ(spec->process->rlimits[0].soft, 512u);
  EXPECT_EQ(spec->process->oom_score_adj, -100);
  EXPECT_TRUE(spec->root->readonly);
  EXPECT_EQ(spec->mounts[0].options, std::vector<std::string>{"nosuid"});
  const Linux& l = *spec->linux;
  EXPECT_EQ(l.namespaces[1].path, "/var/run/netns/x");
  EXPECT_EQ(l.uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(l.resources->memory->limit, 67108864);
  EXPECT_EQ(l.resources->memory->swap, -1);
  EXPECT_EQ(l.resources->cpu->shares, 512u);
  EXPECT_EQ(l.resources->pids->limit, 32);
  EXPECT_FALSE(l.resources->devices[0].major.has_value());
  EXPECT_EQ(l.resources->devices[1].minor, 3);
  EXPECT_EQ(l.resources->unified.at("memory.high"), "max");
  EXPECT_EQ(l.seccomp->syscalls[0].errno_ret, 1u);
  EXPECT_EQ(l.seccomp->syscalls[0].args[0].value, 448u);
  EXPECT_EQ(l.sysctl.at("net.ipv4.ip_forward"), "1");
  EXPECT_EQ(l.rootfs_propagation, "rslave");
}

TEST(SpecJsonTest, RoundTripsThroughJson) {
  auto spec = ParseSpec(kConfig);
  ASSERT_TRUE(spec.ok());
  std::string text = SpecToJson(*spec);
  auto again = ParseSpec(text);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(SpecToJson(*again), text);
  EXPECT_NE(text.find("\"containerID\": 0"), std::string::npos);
  EXPECT_NE(text.find("\"noNewPrivileges\": true"), std::string::npos);
}

TEST(SpecJsonTest, WrongTypeNamesTheField) {
  auto spec = ParseSpec(R"({"ociVersion": "1.0.0", "process": {"user": {"uid": "root"}}})");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(spec.error().message(), "process.user.uid: expected an unsigned integer");
}

TEST(SpecJsonTest, WrongTypeInArrayNamesTheIndex) {
  auto spec = ParseSpec(R"({"linux": {"namespaces": [{"type": "pid"}, {"type": 7}]}})");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().message(), "linux.namespaces[1].type: expected a string");
}

TEST(SpecJsonTest, MalformedJsonIsInvalidArgument) {
  auto spec = ParseSpec("{\"ociVersion\": ");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().code(), Code::kInvalidArgument);
  EXPECT_NE(spec.error().message().find("config.json is not valid JSON"), std::string::npos);
}

TEST(SpecJsonTest, NumberOutOfRange) {
  auto spec = ParseSpec(R"({"process": {"user": {"uid": 4294967296}}})");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().message(), "process.user.uid: number out of range");
}

TEST(SpecJsonTest, LoadSpecMissingBundleIsNotFound) {
  auto spec = LoadSpec("/nonexistent-crtest-bundle");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace cricket::oci
