// ContainerRuntimeFor: the one resolver from a runtime handler to the backend that runs it.

#include "cri/runtime_handlers.h"

#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/mocks/mock_syscalls.h"
#include "tests/support/temp_dir.h"

namespace cricket::cri {
namespace {

using ::cricket::testing::MockSyscalls;
using ::cricket::testing::TempDir;
using ::testing::HasSubstr;

class ContainerRuntimeForTest : public ::testing::Test {
 protected:
  void SetUp() override { config_.state = dir_.Join("state"); }

  TempDir dir_{"handlers"};
  Config config_;
  ::testing::StrictMock<MockSyscalls> sys_;
  oci::CgroupInfo cgroups_;
};

TEST_F(ContainerRuntimeForTest, UnknownHandlerIsInvalidArgument) {
  auto runtime = ContainerRuntimeFor(config_, "kata", sys_, cgroups_, dir_.Join("shim"));
  ASSERT_FALSE(runtime.ok());
  EXPECT_EQ(runtime.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(runtime.error().message(), HasSubstr("runtime_handler \"kata\" is not configured"));
}

TEST_F(ContainerRuntimeForTest, DefaultHandlerIsCricketsOwnRuntime) {
  // Cricket's runtime reads its own state under <state>/runtime: it does not know the id.
  auto runtime = ContainerRuntimeFor(config_, "", sys_, cgroups_, dir_.Join("shim"));
  ASSERT_TRUE(runtime.ok());
  auto deleted = (*runtime)->Delete("abc", /*force=*/true);
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.error().code(), Code::kNotFound);
}

TEST_F(ContainerRuntimeForTest, HandlerWithPathRunsThatBinary) {
  // A stand-in for runc that logs the way runc does and fails.
  const std::string fake = dir_.Join("fake-runc");
  ASSERT_TRUE(WriteFileAtomic(fake,
                              "#!/bin/sh\n"
                              "echo '{\"level\":\"error\",\"msg\":\"container \\\"'\"$9\"'\\\" "
                              "does not exist\"}' >> \"$4\"\n"
                              "exit 1\n",
                              0755, Durability::kProcessCrash)
                  .ok());
  config_.runtimes["runc"].path = fake;
  auto runtime = ContainerRuntimeFor(config_, "runc", sys_, cgroups_, dir_.Join("shim"));
  ASSERT_TRUE(runtime.ok());
  auto deleted = (*runtime)->Delete("abc", /*force=*/true);
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.error().code(), Code::kNotFound);
  EXPECT_THAT(deleted.error().message(),
              HasSubstr(fake + " delete: container \"abc\" does not exist"));
}

}  // namespace
}  // namespace cricket::cri
