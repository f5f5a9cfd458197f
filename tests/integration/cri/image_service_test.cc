// The CRI ImageService of a real cricketd against local registries (hack/test-registry,
// loopback only), as kubelet and critest use it.

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <map>

#include "tests/integration/cri/cricketd_fixture.h"
#include "tests/support/registry_fixture.h"

namespace cricket {
namespace {

using namespace std::chrono_literals;
namespace v1 = ::runtime::v1;

class ImageServiceTest : public ::cricket::testing::CricketdFixture {
 protected:
  void SetUp() override {
    CricketdFixture::SetUp();
    env_ = ::cricket::testing::RegistryFixtureEnv();
    if (env_.count("REGISTRY") == 0) {
      GTEST_SKIP() << "needs the registry fixture: run through ctest (hack/test-registry/start)";
    }
    registry_ = env_["REGISTRY"];
  }

  grpc::Status Pull(const std::string& ref, std::string* image_ref = nullptr,
                    const v1::AuthConfig& auth = {},
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(60000)) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + timeout);
    v1::PullImageRequest req;
    req.mutable_image()->set_image(ref);
    *req.mutable_auth() = auth;
    v1::PullImageResponse resp;
    grpc::Status status = images_->PullImage(&ctx, req, &resp);
    if (image_ref != nullptr) {
      *image_ref = resp.image_ref();
    }
    return status;
  }

  v1::ImageStatusResponse Status(const std::string& ref, bool verbose = false) {
    grpc::ClientContext ctx;
    v1::ImageStatusRequest req;
    req.mutable_image()->set_image(ref);
    req.set_verbose(verbose);
    v1::ImageStatusResponse resp;
    EXPECT_TRUE(images_->ImageStatus(&ctx, req, &resp).ok());
    return resp;
  }

  grpc::Status Remove(const std::string& ref) {
    grpc::ClientContext ctx;
    v1::RemoveImageRequest req;
    req.mutable_image()->set_image(ref);
    v1::RemoveImageResponse resp;
    return images_->RemoveImage(&ctx, req, &resp);
  }

  std::vector<v1::Image> List() {
    grpc::ClientContext ctx;
    v1::ListImagesResponse resp;
    EXPECT_TRUE(images_->ListImages(&ctx, {}, &resp).ok());
    return {resp.images().begin(), resp.images().end()};
  }

  void Start() {
    daemon_ = LaunchReady();
    images_ = ImageStub();
  }

  std::map<std::string, std::string> env_;
  std::string registry_;
  std::unique_ptr<::cricket::testing::CricketdProcess> daemon_;
  std::unique_ptr<v1::ImageService::Stub> images_;
};

TEST_F(ImageServiceTest, PullStatusListRemoveRoundTrip) {
  Start();
  const std::string latest = registry_ + "/test/busybox:latest";
  const std::string v1_tag = registry_ + "/test/busybox:v1";
  std::string image_ref;
  grpc::Status pulled = Pull(latest, &image_ref);
  ASSERT_TRUE(pulled.ok()) << pulled.error_message();
  EXPECT_TRUE(image_ref.starts_with("sha256:")) << image_ref;
  ASSERT_TRUE(Pull(v1_tag).ok());

  // By tag, by id and by digest: the identical object, both tags on one image.
  v1::Image by_tag = Status(latest).image();
  v1::Image by_id = Status(image_ref).image();
  ASSERT_EQ(by_tag.id(), image_ref);
  EXPECT_EQ(by_tag.SerializeAsString(), by_id.SerializeAsString());
  ASSERT_EQ(by_tag.repo_digests_size(), 1);
  EXPECT_EQ(Status(by_tag.repo_digests(0)).image().SerializeAsString(), by_tag.SerializeAsString());
  EXPECT_EQ(std::set<std::string>(by_tag.repo_tags().begin(), by_tag.repo_tags().end()),
            (std::set<std::string>{latest, v1_tag}));
  EXPECT_GT(by_tag.size(), 0u);
  EXPECT_EQ(List().size(), 1u);

  // Verbose status carries the image config.
  auto verbose = Status(latest, true);
  ASSERT_TRUE(verbose.info().contains("info"));
  EXPECT_NE(verbose.info().at("info").find("\"diffIds\""), std::string::npos);

  // ImageFsInfo sees the pulled bytes.
  grpc::ClientContext fs_ctx;
  v1::ImageFsInfoResponse fs;
  ASSERT_TRUE(images_->ImageFsInfo(&fs_ctx, {}, &fs).ok());
  ASSERT_EQ(fs.image_filesystems_size(), 1);
  EXPECT_GT(fs.image_filesystems(0).used_bytes().value(), 0u);
  EXPECT_GT(fs.image_filesystems(0).inodes_used().value(), 0u);

  // Removing one tag keeps the image under the other.
  ASSERT_TRUE(Remove(v1_tag).ok());
  EXPECT_FALSE(Status(v1_tag).has_image());
  EXPECT_EQ(Status(latest).image().repo_tags_size(), 1);
  // Removing by id removes it; removing again, or something never pulled, is OK.
  ASSERT_TRUE(Remove(image_ref).ok());
  EXPECT_FALSE(Status(latest).has_image());
  EXPECT_TRUE(List().empty());
  EXPECT_TRUE(Remove(image_ref).ok());
  EXPECT_TRUE(Remove(registry_ + "/never/pulled:1").ok());
}

TEST_F(ImageServiceTest, UnknownImageStatusIsEmptyNotAnError) {
  Start();
  EXPECT_FALSE(Status(registry_ + "/test/busybox:latest").has_image());
}

TEST_F(ImageServiceTest, BadReferenceIsInvalidArgument) {
  Start();
  grpc::Status status = Pull("UPPER/Case:tag");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  status = Pull("");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ImageServiceTest, PulledImagesSurviveRestart) {
  Start();
  std::string image_ref;
  ASSERT_TRUE(Pull(registry_ + "/test/busybox:latest", &image_ref).ok());
  daemon_->Signal(SIGTERM);
  ASSERT_TRUE(daemon_->WaitExit(5s).has_value());
  Start();
  auto image = Status(registry_ + "/test/busybox:latest").image();
  EXPECT_EQ(image.id(), image_ref);
}

TEST_F(ImageServiceTest, MirrorOnlyRegistryPullsThroughMirrorUnderItsOwnName) {
  // As critest --mirror needs: registry.k8s.io served by the local registry, never upstream.
  WriteConfig("[registry.\"registry.k8s.io\"]\nmirrors = [\"http://" + registry_ +
              "\"]\nmirror_only = true\n");
  Start();
  grpc::Status pulled = Pull("registry.k8s.io/test/busybox:latest");
  ASSERT_TRUE(pulled.ok()) << pulled.error_message();
  auto image = Status("registry.k8s.io/test/busybox:latest").image();
  ASSERT_EQ(image.repo_tags_size(), 1);
  EXPECT_EQ(image.repo_tags(0), "registry.k8s.io/test/busybox:latest");
}

TEST_F(ImageServiceTest, BasicAuthCredentialsFromTheRequest) {
  Start();
  const std::string ref = env_["AUTH_REGISTRY"] + "/test/busybox:latest";
  v1::AuthConfig wrong;
  wrong.set_username(env_["AUTH_USER"]);
  wrong.set_password("wrong-password");
  grpc::Status denied = Pull(ref, nullptr, wrong);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::UNAUTHENTICATED) << denied.error_message();
  v1::AuthConfig right;
  right.set_username(env_["AUTH_USER"]);
  right.set_password(env_["AUTH_PASSWORD"]);
  grpc::Status pulled = Pull(ref, nullptr, right);
  EXPECT_TRUE(pulled.ok()) << pulled.error_message();
}

TEST_F(ImageServiceTest, CorruptBlobIsRefusedNamingTheDigest) {
  Start();
  grpc::Status status = Pull(registry_ + "/test/corrupt:latest");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS) << status.error_message();
  EXPECT_NE(status.error_message().find(env_["CORRUPT_LAYER"]), std::string::npos)
      << status.error_message();
  EXPECT_TRUE(List().empty());
}

TEST_F(ImageServiceTest, ExpiredDeadlineIsDeadlineExceeded) {
  Start();
  grpc::Status status =
      Pull(registry_ + "/test/busybox:latest", nullptr, {}, std::chrono::milliseconds(1));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
}

TEST_F(ImageServiceTest, PinnedImagesAreReportedPinned) {
  WriteConfig("[images]\npinned = [\"" + registry_ + "/test/busybox:latest\"]\n");
  Start();
  ASSERT_TRUE(Pull(registry_ + "/test/busybox:latest").ok());
  EXPECT_TRUE(Status(registry_ + "/test/busybox:latest").image().pinned());
}

}  // namespace
}  // namespace cricket
