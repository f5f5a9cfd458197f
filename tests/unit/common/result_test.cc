#include "common/result.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace cricket {
namespace {

Result<int> Half(int n) {
  if (n % 2 != 0) {
    return Error(Code::kInvalidArgument, "odd number " + std::to_string(n));
  }
  return n / 2;
}

Result<int> Quarter(int n) {
  CR_ASSIGN_OR_RETURN(int half, Half(n));
  CR_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Result<void> CheckEven(int n) {
  CR_RETURN_IF_ERROR(Half(n));
  return Ok();
}

TEST(ResultTest, PropagatesValueAndError) {
  EXPECT_EQ(*Quarter(8), 2);
  auto odd = Quarter(6);
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(odd.error().message(), "odd number 3");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_FALSE(CheckEven(5).ok());
}

TEST(ErrorTest, FromErrnoNamesActionAndErrno) {
  Error e = Error::FromErrno(ENOENT, "open /x");
  EXPECT_EQ(e.code(), Code::kNotFound);
  EXPECT_EQ(e.sys_errno(), ENOENT);
  EXPECT_EQ(e.message(), "open /x: ENOENT (No such file or directory)");
  EXPECT_EQ(Error::FromErrno(EEXIST, "a").code(), Code::kAlreadyExists);
  EXPECT_EQ(Error::FromErrno(EACCES, "a").code(), Code::kPermissionDenied);
  EXPECT_EQ(Error::FromErrno(ENOSPC, "a").code(), Code::kResourceExhausted);
}

TEST(ErrorTest, WrapPrefixesContextAndKeepsCode) {
  Error e = Error::FromErrno(EPERM, "mount /proc on /rootfs/proc").Wrap("create container c1");
  EXPECT_EQ(e.code(), Code::kPermissionDenied);
  EXPECT_EQ(e.ToString(),
            "PERMISSION_DENIED: create container c1: mount /proc on /rootfs/proc: EPERM "
            "(Operation not permitted)");
}

}  // namespace
}  // namespace cricket
