#include "storage/disk_usage.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace cricket::storage {
namespace {

TEST(DiskUsageTest, CountsBytesAndInodesOnceForHardlinks) {
  cricket::testing::TempDir dir("du");
  ASSERT_TRUE(MakeDirs(dir.Join("a/b"), 0755).ok());
  ASSERT_TRUE(WriteFileAtomic(dir.Join("a/b/file"), std::string(100000, 'x'), 0644).ok());
  ASSERT_EQ(::link(dir.Join("a/b/file").c_str(), dir.Join("a/link").c_str()), 0);
  ASSERT_EQ(::symlink("b/file", dir.Join("a/sym").c_str()), 0);
  auto usage = MeasureDiskUsage(dir.path());
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->inodes_used, 5);  // root, a, b, file (once), sym
  EXPECT_GE(usage->used_bytes, 100000);
  EXPECT_LT(usage->used_bytes, 200000);
  EXPECT_EQ(MeasureDiskUsage(dir.Join("missing")).error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace cricket::storage
