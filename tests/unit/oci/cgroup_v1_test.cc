#include <gtest/gtest.h>
#include <unistd.h>

#include "common/files.h"
#include "oci/cgroup_manager.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/oci/fake_cgroupfs.h"

namespace cricket::oci {
namespace {

const std::vector<std::string> kV1Files = {
    "cgroup.procs", "cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpuset.cpus",
    "cpuset.mems", "memory.limit_in_bytes", "memory.soft_limit_in_bytes",
    "memory.memsw.limit_in_bytes", "memory.oom_control", "pids.max", "devices.allow",
    "devices.deny"};

class CgroupV1Test : public ::testing::Test {
 protected:
  CgroupV1Test() : fs_(kV1Files) {
    for (const char* c : {"cpu", "cpuset", "memory", "pids", "devices"}) {
      fs_.Populate(root_.Join(c));
      info_.v1.push_back({root_.Join(c), {c}});
    }
    (void)WriteFileAtomic(root_.Join("cpuset/cpuset.cpus"), "0-3\n", 0644);
    (void)WriteFileAtomic(root_.Join("cpuset/cpuset.mems"), "0\n", 0644);
  }
  std::string Read(const std::string& rel) { return ReadFile(root_.Join(rel)).value_or("<missing>"); }

  cricket::testing::TempDir root_{"cgv1"};
  testing::FakeCgroupFs fs_;
  CgroupInfo info_;
};

TEST_F(CgroupV1Test, WritesLimitsPerHierarchy) {
  Resources r;
  auto& cpu = r.cpu.emplace();
  cpu.shares = 512;
  cpu.quota = 20000;
  cpu.period = 100000;
  auto& mem = r.memory.emplace();
  mem.limit = 1 << 20;
  mem.reservation = 1 << 19;
  mem.swap = 2 << 20;
  r.pids = PidsResources{10};
  DeviceCgroup deny_all;
  deny_all.access = "rwm";
  DeviceCgroup null_dev;
  null_dev.allow = true;
  null_dev.type = "c";
  null_dev.major = 1;
  null_dev.minor = 3;
  null_dev.access = "rw";
  r.devices = {deny_all, null_dev};
  auto cg = NewCgroupV1Manager(fs_, info_, "/k/c");
  auto made = cg->Create(&r);
  ASSERT_TRUE(made.ok()) << made.error().ToString();
  EXPECT_EQ(Read("cpu/k/c/cpu.shares"), "512");
  EXPECT_EQ(Read("cpu/k/c/cpu.cfs_quota_us"), "20000");
  EXPECT_EQ(Read("cpu/k/c/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(Read("memory/k/c/memory.limit_in_bytes"), "1048576");
  EXPECT_EQ(Read("memory/k/c/memory.soft_limit_in_bytes"), "524288");
  EXPECT_EQ(Read("memory/k/c/memory.memsw.limit_in_bytes"), "2097152");
  EXPECT_EQ(Read("pids/k/c/pids.max"), "10");
  EXPECT_EQ(Read("devices/k/c/devices.deny"), "a *:* rwm");
  EXPECT_EQ(Read("devices/k/c/devices.allow"), "c 1:3 rw");
  // New cpuset levels copy cpus and mems from their parent.
  EXPECT_EQ(Read("cpuset/k/cpuset.cpus"), "0-3");
  EXPECT_EQ(Read("cpuset/k/c/cpuset.mems"), "0");
}

TEST_F(CgroupV1Test, AddProcessEverywhereAndDestroyLeafOnly) {
  auto cg = NewCgroupV1Manager(fs_, info_, "/k/c");
  ASSERT_TRUE(cg->Create(nullptr).ok());
  ASSERT_TRUE(cg->AddProcess(42).ok());
  EXPECT_EQ(Read("memory/k/c/cgroup.procs"), "42");
  EXPECT_EQ(Read("devices/k/c/cgroup.procs"), "42");
  ASSERT_TRUE(WriteFileAtomic(root_.Join("memory/k/c/memory.oom_control"),
                              "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n", 0644).ok());
  EXPECT_TRUE(*cg->OomKilled());
  ASSERT_TRUE(cg->Destroy().ok());
  EXPECT_FALSE(std::filesystem::exists(root_.Join("memory/k/c")));
  EXPECT_TRUE(std::filesystem::exists(root_.Join("memory/k")));
}

TEST_F(CgroupV1Test, UnifiedMapNeedsV2) {
  Resources r;
  r.unified["memory.high"] = "1";
  auto cg = NewCgroupV1Manager(fs_, info_, "/c");
  auto made = cg->Create(&r);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error().code(), Code::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(root_.Join("memory/c")));
}

TEST_F(CgroupV1Test, StatsFromEachHierarchy) {
  // cpuacct shares its hierarchy with cpu on most v1 nodes.
  info_.v1[0].controllers = {"cpu", "cpuacct"};
  auto cg = NewCgroupV1Manager(fs_, info_, "/k/c");
  ASSERT_TRUE(cg->Create(nullptr).ok());
  auto write = [&](const std::string& rel, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomic(root_.Join(rel), text, 0644).ok()) << rel;
  };
  write("cpu/k/c/cpuacct.usage", "2500000000\n");
  write("cpu/k/c/cpuacct.stat", "user 150\nsystem 50\n");
  write("memory/k/c/memory.usage_in_bytes", "10000\n");
  write("memory/k/c/memory.stat",
        "cache 1\nrss 2\ntotal_cache 3500\ntotal_rss 6000\ntotal_inactive_file 3000\n");
  write("memory/k/c/memory.limit_in_bytes", "9223372036854771712\n");
  write("memory/k/c/memory.failcnt", "7\n");
  write("memory/k/c/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  write("pids/k/c/pids.current", "3\n");
  auto s = cg->Stats();
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  const uint64_t ns_per_tick = 1'000'000'000 / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
  EXPECT_EQ(s->cpu_usage_ns, 2500000000u);
  EXPECT_EQ(s->cpu_user_ns, 150 * ns_per_tick);
  EXPECT_EQ(s->cpu_system_ns, 50 * ns_per_tick);
  EXPECT_EQ(s->memory_usage_bytes, 10000u);
  EXPECT_EQ(s->memory_working_set_bytes, 7000u);
  EXPECT_EQ(s->memory_rss_bytes, 6000u);
  EXPECT_EQ(s->memory_cache_bytes, 3500u);
  EXPECT_EQ(s->memory_limit_bytes, 0u);
  EXPECT_EQ(s->memory_failcnt, 7u);
  EXPECT_EQ(s->oom_kills, 2u);
  EXPECT_EQ(s->pids_current, 3u);
}

}  // namespace
}  // namespace cricket::oci
