#include <gtest/gtest.h>

#include <filesystem>

#include "tests/integration/oci/container_fixture.h"

namespace cricket::oci::testing {
namespace {

// Runs on v1 here and on v2 in the VM (ctest label cgroupv2, hack/vm).
class CgroupsTest : public ContainerTest {};

TEST_F(CgroupsTest, MemoryLimitOomKillsAndStateSaysSo) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("dd if=/dev/zero of=/dev/null bs=64M count=1");
  auto& memory = spec.linux->resources->memory.emplace();
  memory.limit = 16 << 20;
  if (!v2() && std::filesystem::exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")) {
    memory.swap = 16 << 20;
  }
  WriteSpec(spec);
  auto created = runtime_->Create("oom", Opts());
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_EQ(Control("memory", "memory.limit_in_bytes", "memory.max"), std::to_string(16 << 20));
  ASSERT_TRUE(runtime_->Start("oom").ok());
  auto code = runtime_->Wait(created->pid);
  EXPECT_EQ(code.value_or(-1), 128 + 9);
  auto state = runtime_->State("oom");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->status, Status::kStopped);
  EXPECT_TRUE(state->oom_killed);
  ASSERT_TRUE(runtime_->Delete("oom", false).ok());
  EXPECT_FALSE(CgroupExists("memory"));
}

TEST_F(CgroupsTest, StatsOfARunningContainer) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("sleep 100");
  spec.linux->resources->memory.emplace().limit = 64 << 20;
  WriteSpec(spec);
  ASSERT_TRUE(runtime_->Create("stats", Opts()).ok());
  ASSERT_TRUE(runtime_->Start("stats").ok());
  auto s = runtime_->Stats("stats");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_GT(s->cpu_usage_ns, 0u);
  EXPECT_GT(s->memory_usage_bytes, 0u);
  EXPECT_EQ(s->memory_limit_bytes, uint64_t{64} << 20);
  EXPECT_GE(s->pids_current, 1u);
  ASSERT_TRUE(runtime_->Delete("stats", true).ok());
}

TEST_F(CgroupsTest, UpdateRaisesMemoryAndSwapTogether) {
  CR_REQUIRE_ROOT();
  bool memsw = !v2() && std::filesystem::exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes");
  Spec spec = MakeSpec("sleep 100");
  auto& memory = spec.linux->resources->memory.emplace();
  memory.limit = 32 << 20;
  if (memsw || v2()) {
    memory.swap = 32 << 20;
  }
  WriteSpec(spec);
  ASSERT_TRUE(runtime_->Create("grow", Opts()).ok());
  Resources bigger;
  auto& more = bigger.memory.emplace();
  more.limit = 64 << 20;
  more.swap = memory.swap ? std::optional<int64_t>(64 << 20) : std::nullopt;
  auto updated = runtime_->Update("grow", bigger);
  ASSERT_TRUE(updated.ok()) << updated.error().ToString();
  EXPECT_EQ(Control("memory", "memory.limit_in_bytes", "memory.max"), std::to_string(64 << 20));
  ASSERT_TRUE(runtime_->Delete("grow", true).ok());
}

TEST_F(CgroupsTest, PidsLimitEnforced) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("for i in $(seq 10); do sleep 1 & done 2>/out/log; kill $(jobs -p) 2>/dev/null; true");
  spec.linux->resources->pids = PidsResources{4};
  WriteSpec(spec);
  auto created = runtime_->Create("pids", Opts());
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  EXPECT_EQ(Control("pids", "pids.max", "pids.max"), "4");
  ASSERT_TRUE(runtime_->Start("pids").ok());
  (void)runtime_->Wait(created->pid);
  EXPECT_NE(ReadOut("log").find("fork"), std::string::npos) << ReadOut("log");
  EXPECT_NE(Control("pids", "pids.events", "pids.events"), "max 0");
  ASSERT_TRUE(runtime_->Delete("pids", true).ok());
  EXPECT_FALSE(CgroupExists("pids"));
}

TEST_F(CgroupsTest, CpuSharesQuotaAndCpusetWritten) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("true");
  auto& cpu = spec.linux->resources->cpu.emplace();
  cpu.shares = 512;
  cpu.quota = 50000;
  cpu.period = 100000;
  cpu.cpus = "0";
  WriteSpec(spec);
  auto created = runtime_->Create("cpu", Opts());
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  if (v2()) {
    EXPECT_EQ(Control("cpu", "", "cpu.weight"), "20");  // shares 512 in v2's range
    EXPECT_EQ(Control("cpu", "", "cpu.max"), "50000 100000");
  } else {
    EXPECT_EQ(Control("cpu", "cpu.shares", ""), "512");
    EXPECT_EQ(Control("cpu", "cpu.cfs_quota_us", ""), "50000");
    EXPECT_EQ(Control("cpu", "cpu.cfs_period_us", ""), "100000");
  }
  EXPECT_EQ(Control("cpuset", "cpuset.cpus", "cpuset.cpus"), "0");
  EXPECT_EQ(Control("pids", "cgroup.procs", "cgroup.procs"), std::to_string(created->pid));
  ASSERT_TRUE(runtime_->Delete("cpu", false).ok());
  for (const char* controller : {"cpu", "cpuset", "memory", "pids", "devices"}) {
    EXPECT_FALSE(CgroupExists(controller)) << controller;
  }
}

// v1: devices.deny/devices.allow; v2: the eBPF device filter.
TEST_F(CgroupsTest, DeviceRulesAreEnforced) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("echo x > /dev/null && echo null-ok > /out/log; "
                       "head -c1 /dev/zero >/dev/null 2>&1 || echo zero-denied >> /out/log");
  std::erase_if(spec.linux->resources->devices, [](const DeviceCgroup& d) {
    return d.allow && d.major == 1 && d.minor == 5;
  });
  auto result = Run(spec);
  EXPECT_EQ(result.out, "null-ok\nzero-denied\n");
}

}  // namespace
}  // namespace cricket::oci::testing
