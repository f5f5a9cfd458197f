#include "common/failpoint.h"

#include <cerrno>
#include <set>
#include <string>

#include <gtest/gtest.h>

namespace cricket {
namespace {

class FailPointTest : public ::testing::Test {
 protected:
  void TearDown() override { ASSERT_TRUE(ConfigureFailPoints("").ok()); }
};

TEST_F(FailPointTest, InertUnlessEnabled) {
  ASSERT_TRUE(ConfigureFailPoints("").ok());
  EXPECT_TRUE(FailPoint(FailPointId::kSandboxRunAfterRecord).ok());
}

TEST_F(FailPointTest, ErrorActionFailsWithInternalNamingThePoint) {
  ASSERT_TRUE(ConfigureFailPoints("sandbox_run.after_record=error").ok());
  auto hit = FailPoint(FailPointId::kSandboxRunAfterRecord);
  ASSERT_FALSE(hit.ok());
  EXPECT_EQ(hit.error().code(), Code::kInternal);
  EXPECT_NE(hit.error().message().find("sandbox_run.after_record"), std::string::npos);
}

TEST_F(FailPointTest, EnospcActionLooksLikeAFullDisk) {
  ASSERT_TRUE(ConfigureFailPoints("sandbox_run.after_record=enospc").ok());
  auto hit = FailPoint(FailPointId::kSandboxRunAfterRecord);
  ASSERT_FALSE(hit.ok());
  EXPECT_EQ(hit.error().code(), Code::kResourceExhausted);
  EXPECT_EQ(hit.error().sys_errno(), ENOSPC);
}

TEST_F(FailPointTest, KillActionKillsTheProcess) {
  EXPECT_EXIT(
      {
        (void)ConfigureFailPoints("sandbox_run.after_record=kill");
        (void)FailPoint(FailPointId::kSandboxRunAfterRecord);
      },
      ::testing::KilledBySignal(SIGKILL), "");
}

TEST_F(FailPointTest, UnknownNameOrActionIsRefusedAndChangesNothing) {
  ASSERT_TRUE(ConfigureFailPoints("sandbox_run.after_record=error").ok());
  auto unknown = ConfigureFailPoints("sandbox_run.after_recrod=kill");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), Code::kInvalidArgument);
  EXPECT_NE(unknown.error().message().find("after_recrod"), std::string::npos);
  EXPECT_EQ(ConfigureFailPoints("sandbox_run.after_record=explode").error().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(ConfigureFailPoints("sandbox_run.after_record").error().code(), Code::kInvalidArgument);
  EXPECT_FALSE(FailPoint(FailPointId::kSandboxRunAfterRecord).ok());  // still the old setting
}

TEST_F(FailPointTest, NamesAreUniqueAndDotted) {
  std::set<std::string_view> names;
  for (const FailPointInfo& point : AllFailPoints()) {
    EXPECT_TRUE(names.insert(point.name).second) << point.name;
    EXPECT_NE(point.name.find('.'), std::string_view::npos) << point.name;
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(FailPointId::kCount));
}

}  // namespace
}  // namespace cricket
