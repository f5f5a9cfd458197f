#include <gtest/gtest.h>

#include <filesystem>

#include "common/files.h"
#include "tests/integration/oci/container_fixture.h"

namespace cricket::oci::testing {
namespace {

class BadInputTest : public ContainerTest {
 protected:
  // Nothing of a failed create may remain: no state dir, no cgroup, no mount.
  void ExpectNothingLeft(const std::string& id) {
    EXPECT_FALSE(std::filesystem::exists(root_->Join(id)));
    for (const char* controller : {"memory", "pids", "cpu", "devices"}) {
      EXPECT_FALSE(CgroupExists(controller)) << controller;
    }
    auto mounts = ReadFile("/proc/self/mountinfo");
    ASSERT_TRUE(mounts.ok());
    EXPECT_EQ(mounts->find(rootfs_), std::string::npos);
  }
};

TEST_F(BadInputTest, MalformedConfigJson) {
  CR_REQUIRE_ROOT();
  ASSERT_TRUE(WriteFileAtomic(bundle_->Join("config.json"), "{\"ociVersion\": \"1.0.0\",", 0644).ok());
  auto created = runtime_->Create("bad", Opts());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code(), Code::kInvalidArgument);
  EXPECT_NE(created.error().message().find("not valid JSON"), std::string::npos);
  ExpectNothingLeft("bad");
}

TEST_F(BadInputTest, MissingRootfs) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("true");
  spec.root->path = bundle_->Join("no-such-rootfs");
  WriteSpec(spec);
  auto created = runtime_->Create("bad", Opts());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code(), Code::kNotFound);
  EXPECT_NE(created.error().message().find("root.path"), std::string::npos);
  ExpectNothingLeft("bad");
}

TEST_F(BadInputTest, BadMountIsReportedByStepAndErrno) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("true");
  Mount bogus;
  bogus.destination = "/bogus";
  bogus.type = "bogusfs";
  bogus.source = "none";
  spec.mounts.push_back(bogus);
  WriteSpec(spec);
  auto created = runtime_->Create("bad", Opts());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().message(),
            "mount none on " + rootfs_ + "/bogus (bogusfs): ENODEV (No such device)");
  ExpectNothingLeft("bad");
}

TEST_F(BadInputTest, UnknownNamespaceNamesTheField) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("true");
  spec.linux->namespaces.push_back(Namespace{"bogus", ""});
  WriteSpec(spec);
  auto created = runtime_->Create("bad", Opts());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().message(), "linux.namespaces[6].type: unknown namespace type \"bogus\"");
  ExpectNothingLeft("bad");
}

TEST_F(BadInputTest, MissingExecutable) {
  CR_REQUIRE_ROOT();
  Spec spec = MakeSpec("true");
  spec.process->args = {"no-such-binary"};
  WriteSpec(spec);
  auto created = runtime_->Create("bad", Opts());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code(), Code::kNotFound);
  EXPECT_NE(created.error().message().find("no-such-binary"), std::string::npos);
  ExpectNothingLeft("bad");
}

TEST_F(BadInputTest, BadContainerId) {
  CR_REQUIRE_ROOT();
  WriteSpec(MakeSpec("true"));
  auto created = runtime_->Create("../escape", Opts());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cricket::oci::testing
