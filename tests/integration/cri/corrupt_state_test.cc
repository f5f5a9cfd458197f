// Corrupt metadata.db / images.db at start (issue #14.2): cricketd starts, sets the file aside,
// and what ran before stays manageable: a running pod and its container are listed again and
// stop and remove cleanly; the pulled image is listed by id and runs a new container.

#include <signal.h>

#include <filesystem>

#include "tests/integration/cri/pod_fixture.h"

namespace cricket::testing {
namespace {

class CorruptStateTest : public PodFixture {
 protected:
  // Stops cricketd (pods keep running), overwrites `file` under the root with random-looking
  // bytes and starts cricketd again.
  void CorruptAndRestart(const std::string& file) {
    daemon_->Signal(SIGKILL);
    ASSERT_TRUE(daemon_->WaitExit(10s).has_value());
    std::string junk;
    for (int i = 0; i < 16384; ++i) {
      junk.push_back(static_cast<char>((i * 2654435761U) >> 13));
    }
    ASSERT_TRUE(WriteFileAtomic(root() + "/" + file, junk, 0600).ok());
    std::filesystem::remove(root() + "/" + file + "-wal");
    std::filesystem::remove(root() + "/" + file + "-shm");
    Start();
  }

  // Mounts cricketd made under the test's root or state (rootfs overlays, netns bind mounts).
  std::vector<std::string> OurMounts() {
    std::vector<std::string> out;
    std::string mounts = ReadFile("/proc/self/mountinfo").value_or("");
    for (const std::string& dir : {root(), state()}) {
      for (size_t at = mounts.find(" " + dir + "/"); at != std::string::npos;
           at = mounts.find(" " + dir + "/", at + 1)) {
        out.push_back(mounts.substr(at + 1, mounts.find(' ', at + 1) - at - 1));
      }
    }
    return out;
  }

  bool SetAside(const std::string& file) {
    for (const auto& e : std::filesystem::directory_iterator(root())) {
      if (e.path().filename().string().rfind(file + ".corrupt-", 0) == 0) {
        return true;
      }
    }
    return false;
  }
};

TEST_F(CorruptStateTest, CorruptMetadataDbKeepsRunningPodsManageable) {
  v1::PodSandboxConfig config = PodConfig("survivor");
  std::string pod = RunPod(config);
  ASSERT_FALSE(pod.empty());
  std::string ctr;
  ASSERT_TRUE(CreateContainer(pod, config, "c", "exec busybox sleep 1000", &ctr).ok());
  ASSERT_TRUE(StartContainer(ctr).ok());

  CorruptAndRestart("metadata.db");
  EXPECT_TRUE(SetAside("metadata.db"));

  grpc::ClientContext ctx;
  v1::ListPodSandboxResponse pods;
  ASSERT_TRUE(runtime_->ListPodSandbox(&ctx, {}, &pods).ok());
  ASSERT_EQ(pods.items_size(), 1);
  EXPECT_EQ(pods.items(0).id(), pod);
  EXPECT_EQ(pods.items(0).metadata().namespace_(), "cricket-recovered");
  EXPECT_EQ(pods.items(0).state(), v1::SANDBOX_READY);
  EXPECT_EQ(Status(ctr).state(), v1::CONTAINER_RUNNING);
  v1::ExecSyncResponse out;
  ASSERT_TRUE(Exec(ctr, "echo still-here", &out).ok());
  EXPECT_EQ(out.stdout(), "still-here\n");

  ASSERT_TRUE(StopAndRemovePod(*runtime_, pod).ok());
  EXPECT_EQ(CountContainers(*runtime_), 0);
  EXPECT_FALSE(std::filesystem::exists(state() + "/sandboxes/" + pod));
  EXPECT_FALSE(std::filesystem::exists(state() + "/containers/" + ctr));
  EXPECT_EQ(OurMounts(), std::vector<std::string>{});
}

TEST_F(CorruptStateTest, CorruptImagesDbRecoversPulledImagesById) {
  std::string id;
  {
    grpc::ClientContext ctx;
    v1::ImageStatusRequest req;
    req.mutable_image()->set_image(image_);
    v1::ImageStatusResponse resp;
    ASSERT_TRUE(ImageStub()->ImageStatus(&ctx, req, &resp).ok());
    id = resp.image().id();
  }
  CorruptAndRestart("images.db");
  EXPECT_TRUE(SetAside("images.db"));

  grpc::ClientContext ctx;
  v1::ListImagesResponse images;
  ASSERT_TRUE(ImageStub()->ListImages(&ctx, {}, &images).ok());
  ASSERT_EQ(images.images_size(), 1);
  EXPECT_EQ(images.images(0).id(), id);
  EXPECT_EQ(images.images(0).repo_tags_size(), 0);  // tags are not on disk
  // A pull by tag names it again without a download, and it runs.
  ASSERT_TRUE(::cricket::testing::PullImage(*ImageStub(), image_).ok());
  v1::PodSandboxConfig config = PodConfig("after");
  std::string pod = RunPod(config);
  std::string ctr;
  ASSERT_TRUE(CreateContainer(pod, config, "c", "exec busybox sleep 1000", &ctr).ok());
  ASSERT_TRUE(StartContainer(ctr).ok());
  ASSERT_TRUE(StopAndRemovePod(*runtime_, pod).ok());
}

}  // namespace
}  // namespace cricket::testing
