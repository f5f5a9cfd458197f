#include "shim/exit_record.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace cricket::shim {
namespace {

using ::cricket::testing::TempDir;

TEST(ExitRecordTest, RoundTrips) {
  TempDir dir;
  ExitRecord r{.pid = 42, .exit_code = 137, .signal = 9, .oom_killed = true,
               .started_at_ns = 1, .finished_at_ns = 2};
  ASSERT_TRUE(WriteExitRecord(dir.path(), r).ok());
  auto read = ReadExitRecord(dir.path());
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->exit_code, 137);
  EXPECT_EQ(read->signal, 9);
  EXPECT_TRUE(read->oom_killed);
  EXPECT_EQ(read->finished_at_ns, 2);
}

TEST(ExitRecordTest, MissingIsNotFoundAndGarbageIsDataLoss) {
  TempDir dir;
  EXPECT_EQ(ReadExitRecord(dir.path()).error().code(), Code::kNotFound);
  ASSERT_TRUE(WriteFileAtomic(dir.Join(kExitRecordFile), "{trunc", 0600).ok());
  EXPECT_EQ(ReadExitRecord(dir.path()).error().code(), Code::kDataLoss);
}

}  // namespace
}  // namespace cricket::shim
