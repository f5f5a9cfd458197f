#include "oci/cgroup_stats.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace cricket::oci {
namespace {

using ::cricket::testing::TempDir;

void Write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  ASSERT_TRUE(WriteFileAtomic(path, text, 0644).ok());
}

TEST(CgroupStatsTest, V1ReadsCpuacctAndMemory) {
  TempDir dir;
  CgroupInfo info;
  info.mode = CgroupMode::kHybrid;
  info.v1 = {{dir.Join("cpu,cpuacct"), {"cpu", "cpuacct"}}, {dir.Join("memory"), {"memory"}}};
  Write(dir.Join("cpu,cpuacct/pod/c1/cpuacct.usage"), "123456789\n");
  Write(dir.Join("memory/pod/c1/memory.usage_in_bytes"), "10000\n");
  Write(dir.Join("memory/pod/c1/memory.stat"),
        "cache 1\ntotal_inactive_file 3000\ntotal_rss 5000\ntotal_pgfault 7\ntotal_pgmajfault 2\n");
  auto stats = ReadCgroupStats(info, "/pod/c1");
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  EXPECT_EQ(stats->cpu_usage_ns, 123456789u);
  EXPECT_EQ(stats->memory_usage_bytes, 10000u);
  EXPECT_EQ(stats->memory_working_set_bytes, 7000u);
  EXPECT_EQ(stats->memory_rss_bytes, 5000u);
  EXPECT_EQ(stats->page_faults, 7u);
  EXPECT_EQ(stats->major_page_faults, 2u);
}

TEST(CgroupStatsTest, V2ReadsUnifiedFiles) {
  TempDir dir;
  CgroupInfo info;
  info.mode = CgroupMode::kV2;
  info.unified_mount = dir.path();
  Write(dir.Join("c1/cpu.stat"), "usage_usec 2500\nuser_usec 2000\n");
  Write(dir.Join("c1/memory.current"), "8192\n");
  Write(dir.Join("c1/memory.stat"), "anon 4096\ninactive_file 1024\npgfault 3\npgmajfault 1\n");
  auto stats = ReadCgroupStats(info, "/c1");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->cpu_usage_ns, 2500000u);
  EXPECT_EQ(stats->memory_working_set_bytes, 7168u);
  EXPECT_EQ(stats->memory_rss_bytes, 4096u);
}

TEST(CgroupStatsTest, MissingCgroupIsNotFound) {
  TempDir dir;
  CgroupInfo info;
  info.mode = CgroupMode::kV2;
  info.unified_mount = dir.path();
  EXPECT_EQ(ReadCgroupStats(info, "/gone").error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace cricket::oci
