#include "cri/sandbox_resources.h"

#include <functional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cricket::cri {
namespace {

namespace v1 = ::runtime::v1;
using ::testing::HasSubstr;

// The error of PodCgroupResources for `resources` (no overhead); empty when it succeeds.
std::string ErrorFor(const std::function<void(v1::LinuxContainerResources&)>& set) {
  v1::LinuxContainerResources r;
  set(r);
  auto limits = PodCgroupResources({}, r);
  if (limits.ok()) {
    return "";
  }
  EXPECT_EQ(limits.error().code(), Code::kInvalidArgument) << limits.error().message();
  return limits.error().message();
}

TEST(SandboxResourcesTest, BadValuesAreRefusedNamingTheField) {
  EXPECT_THAT(ErrorFor([](auto& r) { r.set_cpu_period(10); }), HasSubstr("resources.cpu_period"));
  EXPECT_THAT(ErrorFor([](auto& r) { r.set_cpu_period(2000000); }),
              HasSubstr("resources.cpu_period"));
  EXPECT_THAT(ErrorFor([](auto& r) { r.set_cpu_quota(-5); }), HasSubstr("resources.cpu_quota"));
  EXPECT_THAT(ErrorFor([](auto& r) { r.set_cpu_quota(10); }), HasSubstr("resources.cpu_quota"));
  EXPECT_THAT(ErrorFor([](auto& r) { r.set_cpu_shares(1); }), HasSubstr("resources.cpu_shares"));
  EXPECT_THAT(ErrorFor([](auto& r) { r.set_cpu_shares(300000); }),
              HasSubstr("resources.cpu_shares"));
  EXPECT_THAT(ErrorFor([](auto& r) { r.set_memory_limit_in_bytes(-7); }),
              HasSubstr("resources.memory_limit_in_bytes"));
  EXPECT_THAT(ErrorFor([](auto& r) {
                r.set_memory_limit_in_bytes(64 << 20);
                r.set_memory_swap_limit_in_bytes(32 << 20);
              }),
              HasSubstr("resources.memory_swap_limit_in_bytes"));
  EXPECT_THAT(ErrorFor([](auto& r) { r.set_oom_score_adj(1001); }),
              HasSubstr("resources.oom_score_adj"));
  EXPECT_THAT(ErrorFor([](auto& r) { r.set_cpuset_cpus("0-x"); }),
              HasSubstr("resources.cpuset_cpus"));
  EXPECT_THAT(ErrorFor([](auto& r) { r.set_cpuset_mems("a"); }),
              HasSubstr("resources.cpuset_mems"));
  EXPECT_THAT(ErrorFor([](auto& r) { r.add_hugepage_limits()->set_page_size("2XB"); }),
              HasSubstr("resources.hugepage_limits.page_size"));
  EXPECT_THAT(ErrorFor([](auto& r) { (*r.mutable_unified())["../../x.max"] = "1"; }),
              HasSubstr("resources.unified"));
  EXPECT_THAT(ErrorFor([](auto& r) { (*r.mutable_unified())["nodot"] = "1"; }),
              HasSubstr("resources.unified"));
}

TEST(SandboxResourcesTest, TheOverheadIsCheckedToo) {
  v1::LinuxContainerResources overhead;
  overhead.set_cpu_shares(1);
  auto limits = PodCgroupResources(overhead, {});
  ASSERT_FALSE(limits.ok());
  EXPECT_THAT(limits.error().message(), HasSubstr("overhead.cpu_shares"));
}

TEST(SandboxResourcesTest, DifferentPeriodsAreRefused) {
  v1::LinuxContainerResources overhead;
  v1::LinuxContainerResources resources;
  overhead.set_cpu_period(50000);
  resources.set_cpu_period(100000);
  auto limits = PodCgroupResources(overhead, resources);
  ASSERT_FALSE(limits.ok());
  EXPECT_THAT(limits.error().message(), HasSubstr("overhead.cpu_period"));
}

TEST(SandboxResourcesTest, ThePodGetsItsResourcesPlusTheOverhead) {
  v1::LinuxContainerResources overhead;
  overhead.set_cpu_shares(24);
  overhead.set_cpu_quota(10000);
  overhead.set_memory_limit_in_bytes(8 << 20);
  overhead.add_hugepage_limits()->set_page_size("2MB");
  overhead.mutable_hugepage_limits(0)->set_limit(2 << 20);
  v1::LinuxContainerResources resources;
  resources.set_cpu_shares(1000);
  resources.set_cpu_period(100000);
  resources.set_cpu_quota(150000);
  resources.set_memory_limit_in_bytes(128 << 20);
  resources.set_memory_swap_limit_in_bytes(256 << 20);
  resources.set_cpuset_cpus("0");
  resources.add_hugepage_limits()->set_page_size("2MB");
  resources.mutable_hugepage_limits(0)->set_limit(4 << 20);
  (*resources.mutable_unified())["memory.high"] = "100000000";

  auto limits = PodCgroupResources(overhead, resources);
  ASSERT_TRUE(limits.ok()) << limits.error().message();
  ASSERT_TRUE(limits->cpu && limits->memory);
  EXPECT_EQ(limits->cpu->shares, 1024U);
  EXPECT_EQ(limits->cpu->period, 100000U);
  EXPECT_EQ(limits->cpu->quota, 160000);
  EXPECT_EQ(limits->cpu->cpus, "0");
  EXPECT_EQ(limits->memory->limit, (136 << 20));
  EXPECT_EQ(limits->memory->swap, (264 << 20)) << "memory+swap counts the overhead's memory";
  ASSERT_EQ(limits->hugepage_limits.size(), 1U);
  EXPECT_EQ(limits->hugepage_limits[0].limit, 6U << 20);
  EXPECT_EQ(limits->unified.at("memory.high"), "100000000");
}

TEST(SandboxResourcesTest, NoLimitInResourcesLiftsThePodsLimit) {
  v1::LinuxContainerResources overhead;
  overhead.set_cpu_quota(10000);
  overhead.set_memory_limit_in_bytes(8 << 20);
  auto limits = PodCgroupResources(overhead, {});
  ASSERT_TRUE(limits.ok()) << limits.error().message();
  EXPECT_EQ(limits->cpu->quota, -1);
  EXPECT_EQ(limits->memory->limit, -1);
  EXPECT_FALSE(limits->memory->swap.has_value());
}

}  // namespace
}  // namespace cricket::cri
