#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/files.h"
#include "oci/cgroup_manager.h"
#include "tests/mocks/mock_syscalls.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/oci/fake_cgroupfs.h"

namespace cricket::oci {
namespace {

using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Return;
using ::testing::StrictMock;

const std::vector<std::string> kV2Files = {
    "cgroup.procs", "cgroup.subtree_control", "cgroup.controllers", "cpu.weight", "cpu.max", "cpu.stat", "memory.current", "memory.stat", "pids.current",
    "cpu.idle", "cpuset.cpus", "cpuset.mems", "memory.max", "memory.low", "memory.swap.max",
    "memory.events", "pids.max", "io.weight", "hugetlb.2MB.max", "memory.high",
    "cgroup.freeze", "cgroup.events"};

class CgroupV2Test : public ::testing::Test {
 protected:
  CgroupV2Test() : fs_(kV2Files) {
    fs_.Populate(root_.path());
    (void)WriteFileAtomic(root_.Join("cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n", 0644);
  }
  std::string Read(const std::string& rel) { return ReadFile(root_.Join(rel)).value_or("<missing>"); }

  cricket::testing::TempDir root_{"cgv2"};
  testing::FakeCgroupFs fs_;
};

TEST_F(CgroupV2Test, WritesConvertedLimits) {
  Resources r;
  auto& cpu = r.cpu.emplace();
  cpu.shares = 1024;
  cpu.quota = 50000;
  cpu.period = 100000;
  cpu.cpus = "0-1";
  auto& mem = r.memory.emplace();
  mem.limit = 64 << 20;
  mem.reservation = 32 << 20;
  mem.swap = 96 << 20;
  r.pids = PidsResources{32};
  r.block_io = BlockIo{500, std::nullopt};
  r.hugepage_limits = {HugepageLimit{"2MB", 4 << 20}};
  r.unified["memory.high"] = "50000000";
  auto cg = NewCgroupV2Manager(fs_, root_.path(), "/pod/ctr");
  auto made = cg->Create(&r);
  ASSERT_TRUE(made.ok()) << made.error().ToString();
  EXPECT_EQ(Read("pod/ctr/cpu.weight"), "39");  // runc: 1 + (1024-2)*9999/262142
  EXPECT_EQ(Read("pod/ctr/cpu.max"), "50000 100000");
  EXPECT_EQ(Read("pod/ctr/cpuset.cpus"), "0-1");
  EXPECT_EQ(Read("pod/ctr/memory.max"), std::to_string(64 << 20));
  EXPECT_EQ(Read("pod/ctr/memory.low"), std::to_string(32 << 20));
  EXPECT_EQ(Read("pod/ctr/memory.swap.max"), std::to_string(32 << 20));  // memsw - memory
  EXPECT_EQ(Read("pod/ctr/pids.max"), "32");
  EXPECT_EQ(Read("pod/ctr/io.weight"), "default 4950");
  EXPECT_EQ(Read("pod/ctr/hugetlb.2MB.max"), std::to_string(4 << 20));
  EXPECT_EQ(Read("pod/ctr/memory.high"), "50000000");
  // Controllers are delegated down to the container's parent.
  EXPECT_EQ(Read("cgroup.subtree_control"), "+cpuset +cpu +io +memory +hugetlb +pids");
  EXPECT_EQ(Read("pod/cgroup.subtree_control"), "+cpuset +cpu +io +memory +hugetlb +pids");
  EXPECT_EQ(Read("pod/ctr/cgroup.subtree_control"), "");
}

TEST_F(CgroupV2Test, UnlimitedValuesAreMax) {
  Resources r;
  auto& mem = r.memory.emplace();
  mem.limit = -1;
  mem.swap = -1;
  r.pids = PidsResources{0};
  auto& cpu = r.cpu.emplace();
  cpu.period = 100000;
  auto cg = NewCgroupV2Manager(fs_, root_.path(), "/c");
  ASSERT_TRUE(cg->Create(&r).ok());
  EXPECT_EQ(Read("c/memory.max"), "max");
  EXPECT_EQ(Read("c/memory.swap.max"), "max");
  EXPECT_EQ(Read("c/pids.max"), "max");
  EXPECT_EQ(Read("c/cpu.max"), "max 100000");
}

TEST_F(CgroupV2Test, SwapBelowLimitIsInvalidAndLeavesNothing) {
  Resources r;
  auto& mem = r.memory.emplace();
  mem.limit = 64 << 20;
  mem.swap = 32 << 20;
  auto cg = NewCgroupV2Manager(fs_, root_.path(), "/pod/ctr");
  auto made = cg->Create(&r);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(made.error().message(), HasSubstr("linux.resources.memory.swap"));
  EXPECT_FALSE(std::filesystem::exists(root_.Join("pod")));
}

TEST_F(CgroupV2Test, AddProcessOomAndDestroy) {
  auto cg = NewCgroupV2Manager(fs_, root_.path(), "/c");
  ASSERT_TRUE(cg->Create(nullptr).ok());
  ASSERT_TRUE(cg->AddProcess(1234).ok());
  EXPECT_EQ(Read("c/cgroup.procs"), "1234");
  EXPECT_FALSE(*cg->OomKilled());
  ASSERT_TRUE(WriteFileAtomic(root_.Join("c/memory.events"), "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n", 0644).ok());
  EXPECT_TRUE(*cg->OomKilled());
  auto pids = cg->Pids();
  ASSERT_TRUE(pids.ok());
  EXPECT_EQ(*pids, std::vector<pid_t>{1234});
  ASSERT_TRUE(cg->Destroy().ok());
  EXPECT_FALSE(std::filesystem::exists(root_.Join("c")));
  EXPECT_TRUE(cg->Destroy().ok());  // idempotent
}

// Freeze writes cgroup.freeze and returns once cgroup.events says the state was reached; criu's
// --freeze-cgroup takes the cgroup's own directory.
TEST_F(CgroupV2Test, FreezeWritesTheFileAndWaitsForTheKernelsWord) {
  auto cg = NewCgroupV2Manager(fs_, root_.path(), "/c");
  ASSERT_TRUE(cg->Create(nullptr).ok());
  EXPECT_EQ(cg->FreezerDir(), root_.Join("c"));
  ASSERT_TRUE(WriteFileAtomic(root_.Join("c/cgroup.events"), "populated 1\nfrozen 1\n", 0644).ok());
  ASSERT_TRUE(cg->Freeze(true).ok());
  EXPECT_EQ(Read("c/cgroup.freeze"), "1");
  EXPECT_TRUE(*cg->Frozen());
  ASSERT_TRUE(WriteFileAtomic(root_.Join("c/cgroup.events"), "populated 1\nfrozen 0\n", 0644).ok());
  ASSERT_TRUE(cg->Freeze(false).ok());
  EXPECT_EQ(Read("c/cgroup.freeze"), "0");
}

TEST_F(CgroupV2Test, StatsFromControlFiles) {
  auto cg = NewCgroupV2Manager(fs_, root_.path(), "/c");
  ASSERT_TRUE(cg->Create(nullptr).ok());
  ASSERT_TRUE(WriteFileAtomic(root_.Join("c/cpu.stat"),
                              "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n", 0644)
                  .ok());
  ASSERT_TRUE(WriteFileAtomic(root_.Join("c/memory.current"), "10000\n", 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(root_.Join("c/memory.stat"),
                              "anon 6000\nfile 3500\nkernel 100\ninactive_file 3000\n", 0644)
                  .ok());
  ASSERT_TRUE(WriteFileAtomic(root_.Join("c/memory.events"),
                              "low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\n", 0644)
                  .ok());
  ASSERT_TRUE(WriteFileAtomic(root_.Join("c/memory.max"), "max\n", 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(root_.Join("c/pids.current"), "3\n", 0644).ok());
  auto s = cg->Stats();
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(s->cpu_usage_ns, 1500000u);
  EXPECT_EQ(s->memory_usage_bytes, 10000u);
  EXPECT_EQ(s->memory_working_set_bytes, 7000u);
  EXPECT_EQ(s->memory_limit_bytes, 0u);
  EXPECT_EQ(s->pids_current, 3u);
  EXPECT_EQ(s->cpu_user_ns, 1000000u);
  EXPECT_EQ(s->cpu_system_ns, 500000u);
  EXPECT_EQ(s->memory_rss_bytes, 6000u);
  EXPECT_EQ(s->memory_cache_bytes, 3500u);
  EXPECT_EQ(s->memory_failcnt, 7u);
  EXPECT_EQ(s->oom_kills, 2u);
}

TEST(CgroupV2MockTest, FailedWriteNamesTheFileAndRemovesTheNewDirectory) {
  StrictMock<cricket::testing::MockSyscalls> sys;
  cricket::testing::TempDir root("cgv2mock");
  ASSERT_TRUE(WriteFileAtomic(root.Join("cgroup.controllers"), "memory\n", 0644).ok());
  EXPECT_CALL(sys, Mkdir(root.path() + "/ctr", _)).WillOnce(Return(Ok()));
  EXPECT_CALL(sys, Open(root.path() + "/cgroup.subtree_control", _, _))
      .WillOnce(Return(Result<UniqueFd>(UniqueFd(::dup(0)))));
  EXPECT_CALL(sys, Open(root.path() + "/ctr/memory.max", _, _))
      .WillOnce(Return(Result<UniqueFd>(UniqueFd(::dup(0)))));
  EXPECT_CALL(sys, Write(_, std::string_view("+memory"))).WillOnce(Return(Result<size_t>(size_t{7})));
  EXPECT_CALL(sys, Write(_, std::string_view("1000")))
      .WillOnce(Return(Result<size_t>(Error::FromErrno(EBUSY, "write fd"))));
  EXPECT_CALL(sys, Rmdir(root.path() + "/ctr")).WillOnce(Return(Ok()));
  Resources r;
  r.memory.emplace().limit = 1000;
  auto cg = NewCgroupV2Manager(sys, root.path(), "/ctr");
  auto made = cg->Create(&r);
  ASSERT_FALSE(made.ok());
  EXPECT_THAT(made.error().message(), HasSubstr("write 1000 to " + root.path() + "/ctr/memory.max"));
}

TEST(CgroupPathTest, DefaultsAndForms) {
  EXPECT_EQ(*CgroupPathFor("", "abc"), "/cricket/abc");
  EXPECT_EQ(*CgroupPathFor("a/b", "abc"), "/a/b");
  EXPECT_EQ(*CgroupPathFor("/x", "abc"), "/x");
  EXPECT_EQ(CgroupPathFor("system.slice:cricket:abc", "abc").error().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(CgroupPathFor("/../etc", "abc").error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cricket::oci
