#include "oci/cgroup_systemd.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "oci/cgroup_manager.h"

namespace cricket::oci {
namespace {

const UnitProperty* Find(const std::vector<UnitProperty>& props, const std::string& name) {
  for (const auto& p : props) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

template <typename T>
T ValueOf(const std::vector<UnitProperty>& props, const std::string& name) {
  const UnitProperty* p = Find(props, name);
  EXPECT_NE(p, nullptr) << name;
  if (p == nullptr || !std::holds_alternative<T>(p->value)) {
    ADD_FAILURE() << name << " missing or of another type";
    return T{};
  }
  return std::get<T>(p->value);
}

TEST(ExpandSliceTest, DashesNameTheParentSlices) {
  EXPECT_EQ(*ExpandSlice("system.slice"), "/system.slice");
  EXPECT_EQ(*ExpandSlice("kubepods-burstable-pod1234.slice"),
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice");
  EXPECT_EQ(*ExpandSlice("-.slice"), "/");
}

TEST(ExpandSliceTest, NamesSystemdRefusesAreInvalid) {
  for (const char* bad : {"", ".slice", "a/b.slice", "a--b.slice", "-a.slice", "a-.slice",
                          "kubepods", "x.scope", "a b.slice"}) {
    auto expanded = ExpandSlice(bad);
    ASSERT_FALSE(expanded.ok()) << bad;
    EXPECT_EQ(expanded.error().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(SystemdCgroupsPathTest, RuncFormNamesAScopeInTheSlice) {
  auto c = ParseSystemdCgroupsPath("kubepods-besteffort.slice:cricket:abc", "abc");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->slice, "kubepods-besteffort.slice");
  EXPECT_EQ(c->unit, "cricket-abc.scope");
  EXPECT_EQ(c->path, "/kubepods.slice/kubepods-besteffort.slice/cricket-abc.scope");
}

TEST(SystemdCgroupsPathTest, DefaultsFollowRunc) {
  EXPECT_EQ(ParseSystemdCgroupsPath("", "abc")->path, "/system.slice/cricket-abc.scope");
  EXPECT_EQ(ParseSystemdCgroupsPath("::abc", "x")->unit, "abc.scope");
  EXPECT_EQ(ParseSystemdCgroupsPath("-.slice:p:n", "x")->path, "/p-n.scope");
  // A name that is a slice is the unit itself, placed where systemd puts it.
  auto slice = ParseSystemdCgroupsPath("a.slice:ignored:a-b.slice", "x");
  ASSERT_TRUE(slice.ok());
  EXPECT_EQ(slice->unit, "a-b.slice");
  EXPECT_EQ(slice->path, "/a.slice/a-b.slice");
}

TEST(SystemdCgroupsPathTest, OtherFormsAreInvalidArgumentNamingTheField) {
  for (const char* bad : {"/kubepods/pod1", "a.slice:b", "a.slice:b:c:d",
                          "a.slice:p:", "a/b.slice:p:n", "a.slice:p:n/../x"}) {
    auto c = ParseSystemdCgroupsPath(bad, "x");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.error().code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(c.error().message().find("linux.cgroupsPath"), std::string::npos) << bad;
  }
}

TEST(SystemdCgroupsPathTest, ScopeOfPathInvertsContainerScope) {
  auto scope = ContainerScope("kubepods-burstable-pod1.slice", "c1");
  ASSERT_TRUE(scope.ok());
  auto back = ScopeOfPath(scope->path);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, *scope);
  EXPECT_FALSE(ContainerScope("", "c1").ok());  // an empty parent is cgroupfs's /cricket
  EXPECT_FALSE(ScopeOfPath("/cricket/c1").ok());
  EXPECT_FALSE(ScopeOfPath("/kubepods/burstable/x.scope").ok());  // not a slice's path
  EXPECT_FALSE(ScopeOfPath("/a.slice/b-c.slice/x.scope").ok());
}

TEST(CpuListMaskTest, BitNOfByteNDiv8IsCpuN) {
  EXPECT_EQ(*CpuListMask("0", "f"), std::vector<uint8_t>({0x01}));
  EXPECT_EQ(*CpuListMask("0-2,7", "f"), std::vector<uint8_t>({0x87}));
  EXPECT_EQ(*CpuListMask("9", "f"), std::vector<uint8_t>({0x00, 0x02}));
  for (const char* bad : {"", "a", "3-1", "1-", ",", "99999"}) {
    auto mask = CpuListMask(bad, "linux.resources.cpu.cpus");
    ASSERT_FALSE(mask.ok()) << bad;
    EXPECT_NE(mask.error().message().find("linux.resources.cpu.cpus"), std::string::npos);
  }
}

Resources SampleResources() {
  Resources r;
  r.cpu = CpuResources{};
  r.cpu->shares = 1024;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->cpus = "0-1";
  r.cpu->mems = "0";
  r.memory = MemoryResources{};
  r.memory->limit = 64 << 20;
  r.pids = PidsResources{100};
  r.block_io = BlockIo{};
  r.block_io->weight = 500;
  r.unified["memory.high"] = "50331648";
  return r;
}

TEST(ResourcePropertiesTest, V2UsesUnifiedNames) {
  auto props = ResourceProperties(SampleResources(), CgroupMode::kV2);
  ASSERT_TRUE(props.ok()) << props.error().message();
  EXPECT_EQ(ValueOf<uint64_t>(*props, "CPUWeight"), 39u);  // what kubelet computes for 1024
  EXPECT_EQ(ValueOf<uint64_t>(*props, "CPUQuotaPerSecUSec"), 500000u);
  EXPECT_EQ(ValueOf<uint64_t>(*props, "CPUQuotaPeriodUSec"), 100000u);
  EXPECT_EQ(ValueOf<uint64_t>(*props, "MemoryMax"), 64u << 20);
  EXPECT_EQ(ValueOf<uint64_t>(*props, "MemoryHigh"), 48u << 20);
  EXPECT_EQ(ValueOf<uint64_t>(*props, "TasksMax"), 100u);
  EXPECT_EQ(ValueOf<std::vector<uint8_t>>(*props, "AllowedCPUs"), std::vector<uint8_t>({0x03}));
  EXPECT_EQ(ValueOf<std::vector<uint8_t>>(*props, "AllowedMemoryNodes"),
            std::vector<uint8_t>({0x01}));
  EXPECT_EQ(ValueOf<uint64_t>(*props, "IOWeight"), 1 + 490u * 9999 / 990);
  EXPECT_EQ(Find(*props, "CPUShares"), nullptr);
  EXPECT_EQ(Find(*props, "MemoryLimit"), nullptr);
}

TEST(ResourcePropertiesTest, V1AndHybridUseLegacyNamesAndNoCpuset) {
  for (CgroupMode mode : {CgroupMode::kV1, CgroupMode::kHybrid}) {
    auto props = ResourceProperties(SampleResources(), mode);
    ASSERT_TRUE(props.ok());
    EXPECT_EQ(ValueOf<uint64_t>(*props, "CPUShares"), 1024u);
    EXPECT_EQ(ValueOf<uint64_t>(*props, "MemoryLimit"), 64u << 20);
    EXPECT_EQ(ValueOf<uint64_t>(*props, "BlockIOWeight"), 500u);
    EXPECT_EQ(ValueOf<uint64_t>(*props, "TasksMax"), 100u);
    EXPECT_EQ(Find(*props, "AllowedCPUs"), nullptr);  // cpuset files: the cgroupfs backend
    EXPECT_EQ(Find(*props, "MemoryHigh"), nullptr);
    EXPECT_EQ(Find(*props, "CPUWeight"), nullptr);
  }
}

TEST(ResourcePropertiesTest, UnlimitedIsInfinityAndQuotaRoundsUpTo10ms) {
  Resources r;
  r.cpu = CpuResources{};
  r.cpu->quota = 12345;  // of the default 100 ms period: 123450 us/s -> 130000
  r.memory = MemoryResources{};
  r.memory->limit = -1;
  r.pids = PidsResources{-1};
  auto props = ResourceProperties(r, CgroupMode::kV2);
  ASSERT_TRUE(props.ok());
  EXPECT_EQ(ValueOf<uint64_t>(*props, "CPUQuotaPerSecUSec"), 130000u);
  EXPECT_EQ(Find(*props, "CPUQuotaPeriodUSec"), nullptr);
  EXPECT_EQ(ValueOf<uint64_t>(*props, "MemoryMax"), kUnitInfinity);
  EXPECT_EQ(ValueOf<uint64_t>(*props, "TasksMax"), kUnitInfinity);
  r.cpu->quota = -1;
  EXPECT_EQ(ValueOf<uint64_t>(*ResourceProperties(r, CgroupMode::kV2), "CPUQuotaPerSecUSec"),
            kUnitInfinity);
}

// CRI has no pids field: kubelet's pids limit arrives as unified pids.max (v2 only).
TEST(ResourcePropertiesTest, UnifiedPidsMaxIsTasksMaxOnV2) {
  Resources r;
  r.unified["pids.max"] = "1";
  EXPECT_EQ(ValueOf<uint64_t>(*ResourceProperties(r, CgroupMode::kV2), "TasksMax"), 1u);
  r.unified["pids.max"] = "max";
  EXPECT_EQ(ValueOf<uint64_t>(*ResourceProperties(r, CgroupMode::kV2), "TasksMax"), kUnitInfinity);
  r.unified["pids.max"] = "many";
  auto bad = ResourceProperties(r, CgroupMode::kV2);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("unified.pids.max"), std::string::npos);
}

TEST(ResourcePropertiesTest, BadCpusetIsInvalidArgument) {
  Resources r;
  r.cpu = CpuResources{};
  r.cpu->cpus = "zero";
  auto props = ResourceProperties(r, CgroupMode::kV2);
  ASSERT_FALSE(props.ok());
  EXPECT_EQ(props.error().code(), Code::kInvalidArgument);
}

TEST(ScopePropertiesTest, DelegatedScopeInItsSliceWithThePids) {
  auto scope = ContainerScope("kubepods-pod1.slice", "c1");
  Resources r = SampleResources();
  auto props = ScopeProperties(*scope, {4242}, &r, CgroupMode::kV2);
  ASSERT_TRUE(props.ok());
  EXPECT_EQ(ValueOf<std::string>(*props, "Slice"), "kubepods-pod1.slice");
  EXPECT_TRUE(ValueOf<bool>(*props, "Delegate"));
  EXPECT_FALSE(ValueOf<bool>(*props, "DefaultDependencies"));
  EXPECT_EQ(ValueOf<std::vector<uint32_t>>(*props, "PIDs"), std::vector<uint32_t>({4242}));
  EXPECT_TRUE(ValueOf<bool>(*props, "MemoryAccounting"));
  EXPECT_EQ(ValueOf<uint64_t>(*props, "MemoryMax"), 64u << 20);
  auto bare = ScopeProperties(*scope, {1}, nullptr, CgroupMode::kV1);
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(Find(*bare, "MemoryLimit"), nullptr);
  EXPECT_TRUE(ValueOf<bool>(*bare, "BlockIOAccounting"));
}

TEST(CgroupPathForSystemdTest, NeedsTheUnitItsCallerStarted) {
  std::string root = ::testing::TempDir() + "/crtest-" + std::to_string(::getpid()) + "-sdpath";
  std::filesystem::remove_all(root);
  CgroupInfo info;
  info.mode = CgroupMode::kV2;
  info.unified_mount = root;
  info.systemd_driver = true;
  auto missing = CgroupPathFor("kubepods-pod1.slice:cricket:c1", "c1", info);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(missing.error().message().find("cricket-c1.scope"), std::string::npos);

  std::filesystem::create_directories(root +
                                      "/kubepods.slice/kubepods-pod1.slice/cricket-c1.scope");
  auto found = CgroupPathFor("kubepods-pod1.slice:cricket:c1", "c1", info);
  ASSERT_TRUE(found.ok()) << found.error().message();
  EXPECT_EQ(*found, "/kubepods.slice/kubepods-pod1.slice/cricket-c1.scope");
  // The cgroupfs form is refused under systemd, and the systemd form under cgroupfs.
  EXPECT_EQ(CgroupPathFor("/kubepods/x", "c1", info).error().code(), Code::kInvalidArgument);
  info.systemd_driver = false;
  EXPECT_EQ(CgroupPathFor("kubepods-pod1.slice:cricket:c1", "c1", info).error().code(),
            Code::kInvalidArgument);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace cricket::oci
