#include "oci/spec_json.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace cricket::oci {

// gtest prints a mismatched Spec or Process as its JSON (found by argument-dependent lookup).
void PrintTo(const Spec& spec, std::ostream* os) { *os << SpecToJson(spec); }
void PrintTo(const Process& process, std::ostream* os) { *os << ProcessToJson(process); }

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

// Every member of every struct set to a value other than its default, so that a field the
// table misses (in either direction) changes the output or the parsed copy.
Spec FullSpec() {
  Spec s;
  s.oci_version = "1.2.0";
  Process& p = s.process.emplace();
  p.terminal = true;
  p.console_size = ConsoleSize{.height = 24, .width = 80};
  p.user = User{.uid = 1, .gid = 2, .umask = 18, .additional_gids = {3, 4}};
  p.args = {"sh"};
  p.env = {"A=b"};
  p.cwd = "/w";
  p.capabilities = Capabilities{.bounding = {"CAP_A"},
                                .effective = {"CAP_B"},
                                .inheritable = {"CAP_C"},
                                .permitted = {"CAP_D"},
                                .ambient = {"CAP_E"}};
  p.rlimits = {Rlimit{.type = "RLIMIT_NOFILE", .hard = 5, .soft = 6}};
  p.no_new_privileges = true;
  p.apparmor_profile = "aa";
  p.oom_score_adj = -7;
  p.selinux_label = "se";
  s.root = Root{.path = "rootfs", .readonly = true};
  s.hostname = "h";
  s.domainname = "d";
  IdMapping map{.container_id = 8, .host_id = 9, .size = 10};
  s.mounts = {Mount{.destination = "/m",
                    .type = "bind",
                    .source = "/s",
                    .options = {"ro"},
                    .uid_mappings = {map},
                    .gid_mappings = {map}}};
  Hook hook{.path = "/hook", .args = {"x"}, .env = {"E=1"}, .timeout = 11};
  s.hooks = Hooks{.prestart = {hook},
                  .create_runtime = {hook},
                  .create_container = {hook},
                  .start_container = {hook},
                  .poststart = {hook},
                  .poststop = {hook}};
  s.annotations = {{"k", "v"}};
  Linux& l = s.linux.emplace();
  l.namespaces = {Namespace{.type = "network", .path = "/n"}};
  l.uid_mappings = {map};
  l.gid_mappings = {map};
  l.devices = {Device{.type = "c",
                      .path = "/dev/x",
                      .major = 12,
                      .minor = 13,
                      .file_mode = 0600,
                      .uid = 14,
                      .gid = 15}};
  l.cgroups_path = "/c";
  Resources& r = l.resources.emplace();
  r.devices = {DeviceCgroup{.allow = true, .type = "c", .major = 16, .minor = 17, .access = "rw"}};
  r.memory = MemoryResources{
      .limit = 18, .reservation = 19, .swap = 20, .swappiness = 21, .disable_oom_killer = true};
  r.cpu = CpuResources{.shares = 22,
                       .quota = 23,
                       .burst = 24,
                       .period = 25,
                       .realtime_runtime = 26,
                       .realtime_period = 27,
                       .cpus = "0-1",
                       .mems = "0",
                       .idle = 1};
  r.pids = PidsResources{.limit = 28};
  r.block_io = BlockIo{.weight = 29, .leaf_weight = 30};
  r.hugepage_limits = {HugepageLimit{.page_size = "2MB", .limit = 31}};
  r.unified = {{"memory.high", "max"}};
  l.rootfs_propagation = "rslave";
  l.seccomp = Seccomp{
      .default_action = "SCMP_ACT_ERRNO",
      .default_errno_ret = 32,
      .architectures = {"SCMP_ARCH_X86_64"},
      .flags = {"SECCOMP_FILTER_FLAG_LOG"},
      .listener_path = "/l",
      .syscalls = {SeccompSyscall{
          .names = {"mkdir"},
          .action = "SCMP_ACT_ERRNO",
          .errno_ret = 33,
          .args = {SeccompArg{.index = 1, .value = 34, .value_two = 35, .op = "SCMP_CMP_EQ"}}}}};
  l.sysctl = {{"net.ipv4.ip_forward", "1"}};
  l.masked_paths = {"/proc/kcore"};
  l.readonly_paths = {"/proc/sys"};
  l.mount_label = "ml";
  return s;
}

// Every optional object present and every list holding one default element: what the writer
// leaves out and what it always writes.
Spec EmptyShapes() {
  Spec s;
  Process& p = s.process.emplace();
  p.console_size.emplace();
  p.capabilities.emplace();
  p.rlimits.emplace_back();
  s.root.emplace();
  s.mounts.emplace_back();
  s.hooks.emplace().prestart.emplace_back();
  Linux& l = s.linux.emplace();
  l.namespaces.emplace_back();
  l.uid_mappings.emplace_back();
  l.devices.emplace_back();
  Resources& r = l.resources.emplace();
  r.devices.emplace_back();
  r.memory.emplace();
  r.cpu.emplace();
  r.pids.emplace();
  r.block_io.emplace();
  r.hugepage_limits.emplace_back();
  l.seccomp.emplace().syscalls.emplace_back().args.emplace_back();
  return s;
}

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

// FullSpec() as config.json: every key spelled as the runtime-spec spells it.
constexpr std::string_view kFullSpecJson = R"(
{"annotations":{"k":"v"},"domainname":"d","hooks":{"createContainer":[{"args":["x"],
"env":["E=1"],"path":"/hook","timeout":11}],"createRuntime":[{"args":["x"],"env":["E=1"],
"path":"/hook","timeout":11}],"poststart":[{"args":["x"],"env":["E=1"],"path":"/hook",
"timeout":11}],"poststop":[{"args":["x"],"env":["E=1"],"path":"/hook","timeout":11}],
"prestart":[{"args":["x"],"env":["E=1"],"path":"/hook","timeout":11}],
"startContainer":[{"args":["x"],"env":["E=1"],"path":"/hook","timeout":11}]},"hostname":"h",
"linux":{"cgroupsPath":"/c","devices":[{"fileMode":384,"gid":15,"major":12,"minor":13,
"path":"/dev/x","type":"c","uid":14}],"gidMappings":[{"containerID":8,"hostID":9,"size":10}],
"maskedPaths":["/proc/kcore"],"mountLabel":"ml","namespaces":[{"path":"/n","type":"network"}],
"readonlyPaths":["/proc/sys"],"resources":{"blockIO":{"leafWeight":30,"weight":29},
"cpu":{"burst":24,"cpus":"0-1","idle":1,"mems":"0","period":25,"quota":23,"realtimePeriod":27,
"realtimeRuntime":26,"shares":22},"devices":[{"access":"rw","allow":true,"major":16,"minor":17,
"type":"c"}],"hugepageLimits":[{"limit":31,"pageSize":"2MB"}],"memory":{"disableOOMKiller":true,
"limit":18,"reservation":19,"swap":20,"swappiness":21},"pids":{"limit":28},
"unified":{"memory.high":"max"}},"rootfsPropagation":"rslave",
"seccomp":{"architectures":["SCMP_ARCH_X86_64"],"defaultAction":"SCMP_ACT_ERRNO",
"defaultErrnoRet":32,"flags":["SECCOMP_FILTER_FLAG_LOG"],"listenerPath":"/l",
"syscalls":[{"action":"SCMP_ACT_ERRNO","args":[{"index":1,"op":"SCMP_CMP_EQ","value":34,
"valueTwo":35}],"errnoRet":33,"names":["mkdir"]}]},"sysctl":{"net.ipv4.ip_forward":"1"},
"uidMappings":[{"containerID":8,"hostID":9,"size":10}]},"mounts":[{"destination":"/m",
"gidMappings":[{"containerID":8,"hostID":9,"size":10}],"options":["ro"],"source":"/s",
"type":"bind","uidMappings":[{"containerID":8,"hostID":9,"size":10}]}],"ociVersion":"1.2.0",
"process":{"apparmorProfile":"aa","args":["sh"],"capabilities":{"ambient":["CAP_E"],
"bounding":["CAP_A"],"effective":["CAP_B"],"inheritable":["CAP_C"],"permitted":["CAP_D"]},
"consoleSize":{"height":24,"width":80},"cwd":"/w","env":["A=b"],"noNewPrivileges":true,
"oomScoreAdj":-7,"rlimits":[{"hard":5,"soft":6,"type":"RLIMIT_NOFILE"}],"selinuxLabel":"se",
"terminal":true,"user":{"additionalGids":[3,4],"gid":2,"uid":1,"umask":18}},
"root":{"path":"rootfs","readonly":true}})";

// EmptyShapes() as config.json: the members written even when they hold their default.
constexpr std::string_view kEmptyShapesJson = R"(
{"hooks":{"prestart":[{"path":""}]},"linux":{"devices":[{"major":0,"minor":0,"path":"",
"type":""}],"namespaces":[{"type":""}],"resources":{"blockIO":{},"cpu":{},
"devices":[{"allow":false}],"hugepageLimits":[{"limit":0,"pageSize":""}],"memory":{},
"pids":{"limit":0}},"seccomp":{"defaultAction":"","syscalls":[{"action":"","args":[{"index":0,
"op":"","value":0}],"names":[]}]},"uidMappings":[{"containerID":0,"hostID":0,"size":0}]},
"mounts":[{"destination":""}],"ociVersion":"","process":{"args":[],"capabilities":{"ambient":[],
"bounding":[],"effective":[],"inheritable":[],"permitted":[]},"consoleSize":{"height":0,
"width":0},"cwd":"","rlimits":[{"hard":0,"soft":0,"type":""}],"terminal":false,"user":{"gid":0,
"uid":0}},"root":{"path":"","readonly":false}})";

TEST(SpecJsonTest, WritesEveryFieldUnderItsKey) {
  EXPECT_EQ(nlohmann::json::parse(SpecToJson(FullSpec())), nlohmann::json::parse(kFullSpecJson));
}

TEST(SpecJsonTest, LeavesOutEmptyFieldsTheSpecMakesOptional) {
  EXPECT_EQ(nlohmann::json::parse(SpecToJson(EmptyShapes())),
            nlohmann::json::parse(kEmptyShapesJson));
  EXPECT_EQ(ProcessToJson(Process{}),
            R"({"args":[],"cwd":"","terminal":false,"user":{"gid":0,"uid":0}})");
}

// A member the field tables miss (in either direction) comes back as its default.
TEST(SpecJsonTest, EveryFieldRoundTrips) {
  const Spec full = FullSpec();
  auto spec = ParseSpec(SpecToJson(full));
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  EXPECT_EQ(*spec, full);
  auto process = ParseProcess(ProcessToJson(*full.process));
  ASSERT_TRUE(process.ok()) << process.error().ToString();
  EXPECT_EQ(*process, *full.process);
  const Spec empty = EmptyShapes();
  auto parsed_empty = ParseSpec(SpecToJson(empty));
  ASSERT_TRUE(parsed_empty.ok()) << parsed_empty.error().ToString();
  EXPECT_EQ(*parsed_empty, empty);
}

}  // namespace
}  // namespace cricket::oci
