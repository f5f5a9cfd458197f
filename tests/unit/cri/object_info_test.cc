#include "cri/object_info.h"

#include <gtest/gtest.h>

namespace cricket::cri {
namespace {

ContainerInfo SomeContainerInfo() {
  ContainerInfo info;
  info.image_id = "sha256:abc";
  info.bundle = "/run/cricket/containers/c1";
  info.runtime_handler = "runc";
  return info;
}

TEST(ObjectInfoTest, ContainerUserRoundTrips) {
  ContainerInfo info = SomeContainerInfo();
  info.user = ContainerUser{1000, 1000, {1000, 1234, 4294967294u}};

  auto back = ContainerInfoFromJson(ContainerInfoToJson(info));

  ASSERT_TRUE(back.ok()) << back.error().ToString();
  ASSERT_TRUE(back->user.has_value());
  EXPECT_EQ(*back->user, *info.user);
  EXPECT_EQ(back->bundle, info.bundle);
  EXPECT_EQ(back->runtime_handler, "runc");
}

TEST(ObjectInfoTest, ARecordWrittenBeforeTheUserWasKeptLoadsWithoutOne) {
  // A container record as cricketd wrote it before ContainerInfo.user existed.
  const std::string old =
      R"({"bundle":"/run/cricket/containers/c1","imageId":"sha256:abc","imageName":"busybox",)"
      R"("logPath":"/var/log/pods/p/c/0.log","runtimeHandler":"","shimDir":"/run/cricket/shims/c1",)"
      R"("stopSignal":0,"tty":false})";

  auto info = ContainerInfoFromJson(old);

  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_FALSE(info->user.has_value());
  EXPECT_EQ(info->bundle, "/run/cricket/containers/c1");
  EXPECT_EQ(info->log_path, "/var/log/pods/p/c/0.log");
}

TEST(ObjectInfoTest, AMalformedUserCountsAsAbsent) {
  for (const char* user :
       {R"("root")", R"({"uid":-1,"gid":0,"supplementalGroups":[]})",
        R"({"uid":0,"gid":4294967296,"supplementalGroups":[]})",
        R"({"uid":0,"gid":0,"supplementalGroups":["wheel"]})", R"({"uid":0,"gid":0})"}) {
    auto info = ContainerInfoFromJson(std::string(R"({"bundle":"/b","user":)") + user + "}");

    ASSERT_TRUE(info.ok()) << user << ": " << info.error().ToString();
    EXPECT_FALSE(info->user.has_value()) << user;
    EXPECT_EQ(info->bundle, "/b");
  }
}

}  // namespace
}  // namespace cricket::cri
