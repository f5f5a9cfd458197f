#include "cri/container_user.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <string>

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/root_file.h"
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

// The image's /etc/passwd and /etc/group come from the image: ResolveUser reads them inside the
// rootfs, so hostile ones give a precise error or an unknown user, never a host file or a hang.
class HostileRootfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(rootfs_ + "/etc");
    ASSERT_TRUE(WriteFileAtomic(host_passwd_, "marker:x:4242:4242::/:/bin/sh\n", 0644).ok());
  }

  Result<oci::User> Resolve(const std::string& username, const std::string& image_user = "") {
    runtime::v1::LinuxContainerSecurityContext sc;
    sc.set_run_as_username(username);
    return ResolveUser(sc, image_user, rootfs_);
  }

  TempDir dir_{"hostile"};
  std::string rootfs_ = dir_.Join("rootfs");
  std::string host_passwd_ = dir_.Join("host-passwd");
};

TEST_F(HostileRootfsTest, PasswdLinkedToAHostFileIsNotFollowed) {
  std::filesystem::create_symlink(host_passwd_, rootfs_ + "/etc/passwd");

  auto user = Resolve("marker");

  ASSERT_FALSE(user.ok()) << "got the host file's uid " << user->uid;
  EXPECT_EQ(user.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(user.error().message(), "user \"marker\" is not in the image's /etc/passwd");
}

TEST_F(HostileRootfsTest, PasswdThatIsAFifoIsAPreciseError) {
  const std::string fifo = rootfs_ + "/etc/passwd";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);

  auto pending = std::async(std::launch::async, [&] { return Resolve("root"); });
  // A bound for a read that would never end; generous, as resolving may be slow under load.
  if (pending.wait_for(std::chrono::seconds(60)) == std::future_status::timeout) {
    // A blocked reader gets a writer that closes at once, so the test ends instead of hanging.
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
    int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    ::close(fd);
    ADD_FAILURE() << "reading a FIFO /etc/passwd blocked";
  }
  auto user = pending.get();

  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(user.error().message().find("read the image's /etc/passwd: open /etc/passwd in " +
                                        rootfs_ + ": a fifo, not a regular file"),
            std::string::npos)
      << user.error().message();
}

TEST_F(HostileRootfsTest, GroupThatIsTooLargeIsAPreciseError) {
  ASSERT_TRUE(WriteFileAtomic(rootfs_ + "/etc/passwd", "app:x:1000:1000::/:/bin/sh\n", 0644).ok());
  ASSERT_TRUE(
      WriteFileAtomic(rootfs_ + "/etc/group", std::string(kMaxAccountFileBytes + 1, '#'), 0644)
          .ok());

  auto user = Resolve("", "app:staff");

  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.error().code(), Code::kResourceExhausted);
  EXPECT_NE(user.error().message().find("/etc/group"), std::string::npos) << user.error().message();
}

TEST_F(HostileRootfsTest, MissingPasswdStillMeansNoSuchUser) {
  EXPECT_EQ(Resolve("root").error().code(), Code::kInvalidArgument);
  auto numeric = Resolve("", "1000");
  ASSERT_TRUE(numeric.ok()) << numeric.error().ToString();
  EXPECT_EQ(numeric->uid, 1000u);
  EXPECT_EQ(numeric->gid, 0u);
}

TEST_F(HostileRootfsTest, RegularPasswdAndGroupResolve) {
  ASSERT_TRUE(WriteFileAtomic(rootfs_ + "/etc/passwd", "app:x:1000:1000::/:/bin/sh\n", 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(rootfs_ + "/etc/group", "app:x:1000:\nstaff:x:50:app\n", 0644).ok());

  auto user = Resolve("app");

  ASSERT_TRUE(user.ok()) << user.error().ToString();
  EXPECT_EQ(user->uid, 1000u);
  EXPECT_EQ(user->gid, 1000u);
  EXPECT_EQ(user->additional_gids, (std::vector<uint32_t>{50, 1000}));
}

}  // namespace
}  // namespace cricket::cri
