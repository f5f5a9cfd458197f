#include "cri/container_user.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "oci/spec_default.h"
#include "oci/spec_json.h"
#include "tests/support/temp_dir.h"

namespace cricket::cri {
namespace {

using ::cricket::testing::TempDir;

// A bundle whose config.json runs its process as `user`.
void WriteBundle(const TempDir& bundle, const oci::User& user) {
  oci::Spec spec = oci::DefaultSpec();
  spec.process->user = user;
  ASSERT_TRUE(WriteFileAtomic(bundle.Join("config.json"), oci::SpecToJson(spec), 0600).ok());
}

TEST(ContainerUserTest, TheRecordedUserIsUsedWithoutReadingTheBundle) {
  TempDir bundle;
  WriteBundle(bundle, {.uid = 1, .gid = 2, .umask = {}, .additional_gids = {2}});
  ContainerInfo info;
  info.bundle = bundle.path();
  info.user = ContainerUser{1000, 1000, {1000, 1234}};

  auto user = RecordedContainerUser(info);

  ASSERT_TRUE(user.ok()) << user.error().ToString();
  EXPECT_EQ(*user, (ContainerUser{1000, 1000, {1000, 1234}}));
}

TEST(ContainerUserTest, AnOldRecordFallsBackToTheBundleSpec) {
  TempDir bundle;
  WriteBundle(bundle, {.uid = 1000, .gid = 100, .umask = {}, .additional_gids = {100, 1234}});
  ContainerInfo info;
  info.bundle = bundle.path();

  auto user = RecordedContainerUser(info);

  ASSERT_TRUE(user.ok()) << user.error().ToString();
  EXPECT_EQ(*user, (ContainerUser{1000, 100, {100, 1234}}));
}

TEST(ContainerUserTest, AnOldRecordWithoutItsBundleIsAnError) {
  TempDir dir;
  ContainerInfo info;
  info.bundle = dir.Join("gone");

  EXPECT_FALSE(RecordedContainerUser(info).ok());
}

}  // namespace
}  // namespace cricket::cri
