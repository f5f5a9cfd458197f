// Disk full (issue #14.2): cricketd's root, state and portable-volume dirs (portable root,
// coordination, snapshot store) on tiny tmpfs mounts of the test's own, filled to the last
// block. RunPodSandbox, CreateContainer, PullImage, a portable volume's attach and its snapshot
// fail with RESOURCE_EXHAUSTED and leave nothing behind (no record, no temp file, no image, no
// attachment); the calls that end things (StartContainer, StopContainer, RemoveContainer,
// StopPodSandbox, RemovePodSandbox) either work or fail with RESOURCE_EXHAUSTED, never with
// another code, and the objects still answer their status. Once space is freed the same
// cricketd, not restarted, finishes every call that failed and runs a pod round trip.

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <iostream>

#include "cricket/admin/v1/volumes.grpc.pb.h"
#include "tests/integration/cri/pod_fixture.h"
#include "tests/support/cri_calls.h"
#include "tests/support/wait_until.h"

namespace cricket::testing {
namespace {

class DiskFullTest : public PodFixture {
 protected:
  void SetUp() override {
    CR_REQUIRE_ROOT();
    for (const std::string& dir : {root(), state(), shared()}) {
      ASSERT_TRUE(MakeDirs(dir, 0700).ok());
      // Named crtest-<pid>-... so a leftover is recognisably the test's.
      std::string source = "crtest-" + std::to_string(::getpid()) + "-" +
                           std::filesystem::path(dir).filename().string();
      ASSERT_EQ(
          ::mount(source.c_str(), dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=48m,mode=0711"),
          0)
          << "mount tmpfs on " << dir << ": " << strerror(errno);
      mounted_.push_back(dir);
    }
    PodFixture::SetUp();
  }

  void TearDown() override {
    FreeSpace();
    PodFixture::TearDown();
    for (const std::string& dir : mounted_) {
      // Lazy: a pod's leftover mount below must not keep the tmpfs (and the test) alive.
      EXPECT_EQ(::umount2(dir.c_str(), MNT_DETACH), 0) << dir << ": " << strerror(errno);
    }
  }

  // The portable volumes' dirs, on a tmpfs of their own (it is filled too).
  std::string shared() const { return dir_.Join("shared"); }

  // The [volumes] section goes before the network section, in the config CricketdFixture
  // writes in its SetUp.
  std::string NetworkSection() const override {
    return "[volumes]\nportable_root = \"" + shared() + "/portable\"\nnode_name = \"full\"\n" +
           "coordination_dir = \"" + shared() + "/coordination\"\nsnapshot_dir = \"" + shared() +
           "/store\"\nsnapshot_interval_seconds = 3600\n\n" + PodFixture::NetworkSection();
  }

  void FillAll() {
    for (const std::string& dir : mounted_) {
      Fill(dir);
    }
  }

  // Writes filler files until the filesystem refuses one more byte.
  void Fill(const std::string& dir) {
    const std::string path = dir + "/crtest-filler";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << strerror(errno);
    fillers_.push_back(path);
    std::string chunk(1 << 20, 'f');
    for (size_t size : {size_t{1} << 20, size_t{4096}, size_t{1}}) {
      while (::write(fd, chunk.data(), size) == static_cast<ssize_t>(size)) {
      }
    }
    int saved = errno;
    ::close(fd);
    ASSERT_EQ(saved, ENOSPC);
  }

  void FreeSpace() {
    for (const std::string& path : fillers_) {
      ::unlink(path.c_str());
    }
    fillers_.clear();
  }

  // Files a crash-safe writer left behind: "<name>.tmp-<pid>" (WriteFileAtomic), ".tmp-*"
  // (snapshotter), "<hex>.XXXXXX" in ingest/ (ContentStore::WriteBlob).
  std::vector<std::string> TempFiles() {
    std::vector<std::string> out;
    for (const std::string& dir : mounted_) {
      std::error_code ec;
      for (auto it = std::filesystem::recursive_directory_iterator(
               dir, std::filesystem::directory_options::skip_permission_denied, ec);
           it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        std::string name = it->path().filename().string();
        // In ingest/ only a resumable download (<hex>.partial) may stay; its digest is checked
        // before it becomes a blob.
        bool ingest_temp =
            it->path().parent_path().filename() == "ingest" && !name.ends_with(".partial");
        if (name.find(".tmp-") != std::string::npos || ingest_temp) {
          out.push_back(it->path().string());
        }
      }
    }
    return out;
  }

  std::string ImageId() {
    grpc::ClientContext ctx;
    v1::ImageStatusRequest req;
    req.mutable_image()->set_image(image_);
    v1::ImageStatusResponse resp;
    EXPECT_TRUE(ImageStub()->ImageStatus(&ctx, req, &resp).ok());
    return resp.image().id();
  }

  grpc::Status RemoveImage(const std::string& ref) {
    grpc::ClientContext ctx;
    v1::RemoveImageRequest req;
    req.mutable_image()->set_image(ref);
    v1::RemoveImageResponse resp;
    return ImageStub()->RemoveImage(&ctx, req, &resp);
  }

  size_t PodCount() {
    grpc::ClientContext ctx;
    v1::ListPodSandboxResponse pods;
    EXPECT_TRUE(runtime_->ListPodSandbox(&ctx, {}, &pods).ok());
    return static_cast<size_t>(pods.items_size());
  }

  std::vector<std::string> mounted_;
  std::vector<std::string> fillers_;
};

TEST_F(DiskFullTest, RpcsFailResourceExhaustedAndWorkAgainOnceSpaceIsFreed) {
  // A pod made while there is room, for the CreateContainer below.
  v1::PodSandboxConfig first = PodConfig("roomy");
  std::string roomy = RunPod(first);
  ASSERT_FALSE(roomy.empty());
  std::string image_id = ImageId();

  Fill(root());
  Fill(state());

  std::string ctr;
  grpc::Status created = CreateContainer(roomy, first, "c", "echo hi", &ctr);
  EXPECT_EQ(created.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << created.error_message();
  std::string pod;
  grpc::Status ran = ::cricket::testing::RunPod(*runtime_, PodConfig("full"), &pod);
  EXPECT_EQ(ran.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << ran.error_message();

  // The image goes while there is room (CreateContainer above needed it), so the pull below
  // meets the full disk.
  FreeSpace();
  ASSERT_TRUE(RemoveImage(image_id).ok());
  Fill(root());
  Fill(state());
  grpc::Status pulled = ::cricket::testing::PullImage(*ImageStub(), image_);
  EXPECT_EQ(pulled.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << pulled.error_message();

  // Nothing half-made is left to be read back: no pod record, no container, no image, no temp.
  EXPECT_EQ(PodCount(), 1U);
  EXPECT_EQ(CountContainers(*runtime_), 0);
  {
    grpc::ClientContext ctx;
    v1::ImageStatusRequest req;
    req.mutable_image()->set_image(image_);
    v1::ImageStatusResponse resp;
    ASSERT_TRUE(ImageStub()->ImageStatus(&ctx, req, &resp).ok());
    EXPECT_FALSE(resp.has_image()) << "a pull that met a full disk left an image";
  }
  EXPECT_EQ(TempFiles(), std::vector<std::string>{});

  // Room again: the same cricketd pulls, runs a pod and a container, and removes them.
  FreeSpace();
  ASSERT_TRUE(::cricket::testing::PullImage(*ImageStub(), image_).ok());
  EXPECT_EQ(ImageId(), image_id);  // the same bytes: nothing truncated was kept
  v1::PodSandboxConfig again = PodConfig("again");
  std::string pod2 = RunPod(again);
  ASSERT_FALSE(pod2.empty());
  std::string ctr2;
  ASSERT_TRUE(
      CreateContainer(pod2, again, "c", "echo round-trip; exec busybox sleep 100", &ctr2).ok());
  ASSERT_TRUE(StartContainer(ctr2).ok());
  v1::ExecSyncResponse out;
  ASSERT_TRUE(Exec(ctr2, "echo alive", &out).ok());
  EXPECT_EQ(out.stdout(), "alive\n");
  EXPECT_TRUE(StopAndRemovePod(*runtime_, pod2).ok());
  EXPECT_TRUE(StopAndRemovePod(*runtime_, roomy).ok());
  EXPECT_EQ(PodCount(), 0U);
}

// Codes a call that meets a full disk may answer: done anyway, or RESOURCE_EXHAUSTED.
bool OkOrExhausted(const grpc::Status& s) {
  return s.ok() || s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
}

TEST_F(DiskFullTest, VolumeAndLifecycleRpcsFailCleanlyAndFinishOnceSpaceIsFreed) {
  auto admin = cricket::admin::v1::Volumes::NewStub(UnixChannel(socket()));
  const std::string volume = shared() + "/portable/vol";
  // Made while there is room: a pod, a running container with the volume attached (and data in
  // it), a created container, and a running one.
  v1::PodSandboxConfig pod_config = PodConfig("lifecycle");
  std::string pod = RunPod(pod_config);
  ASSERT_FALSE(pod.empty());
  std::string with_volume;
  ASSERT_TRUE(
      ::cricket::testing::CreateContainer(
          *runtime_, pod, pod_config,
          MakeShellContainer("vol", image_, "echo data > /data/f; exec busybox sleep 100", volume),
          &with_volume)
          .ok());
  ASSERT_TRUE(StartContainer(with_volume).ok());
  std::string created;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "created", "exec busybox sleep 100", &created).ok());
  std::string running;
  ASSERT_TRUE(CreateContainer(pod, pod_config, "running", "exec busybox sleep 100", &running).ok());
  ASSERT_TRUE(StartContainer(running).ok());
  ASSERT_TRUE(WaitUntil(
      [&] {
        v1::ExecSyncResponse out;
        return Exec(with_volume, "cat /data/f", &out).ok() && out.stdout() == "data\n";
      },
      30s));

  FillAll();

  // An attach: a volume not attached yet (one already attached to the pod is shared, and a new
  // pod cannot be made on a full disk).
  std::string attached;
  grpc::Status attach = ::cricket::testing::CreateContainer(
      *runtime_, pod, pod_config,
      MakeShellContainer("vol2", image_, "exec busybox sleep 100", shared() + "/portable/vol2"),
      &attached);
  EXPECT_EQ(attach.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << attach.error_message();
  EXPECT_EQ(CountContainers(*runtime_), 3);
  cricket::admin::v1::SnapshotVolumeResponse snap;
  grpc::Status snapshot = SnapshotVolume(*admin, "vol", &snap);
  EXPECT_EQ(snapshot.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << snapshot.error_message();

  // The calls that end things: done or RESOURCE_EXHAUSTED, and the objects still answer.
  std::vector<std::pair<std::string, std::function<grpc::Status()>>> calls = {
      {"StartContainer", [&] { return StartContainer(created); }},
      {"StopContainer", [&] { return Stop(running, 2); }},
      {"RemoveContainer",
       [&] {
         grpc::ClientContext ctx;
         v1::RemoveContainerRequest req;
         req.set_container_id(running);
         v1::RemoveContainerResponse resp;
         return runtime_->RemoveContainer(&ctx, req, &resp);
       }},
      {"StopPodSandbox",
       [&] {
         grpc::ClientContext ctx;
         v1::StopPodSandboxRequest req;
         req.set_pod_sandbox_id(pod);
         v1::StopPodSandboxResponse resp;
         return runtime_->StopPodSandbox(&ctx, req, &resp);
       }},
      {"RemovePodSandbox",
       [&] {
         grpc::ClientContext ctx;
         v1::RemovePodSandboxRequest req;
         req.set_pod_sandbox_id(pod);
         v1::RemovePodSandboxResponse resp;
         return runtime_->RemovePodSandbox(&ctx, req, &resp);
       }},
  };
  std::vector<size_t> failed;
  for (size_t i = 0; i < calls.size(); ++i) {
    grpc::Status s = calls[i].second();
    EXPECT_TRUE(OkOrExhausted(s)) << calls[i].first << " on a full disk: " << s.error_code() << " "
                                  << s.error_message();
    if (!s.ok()) {
      failed.push_back(i);
    }
    grpc::ClientContext ctx;
    v1::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(pod);
    v1::PodSandboxStatusResponse resp;
    grpc::Status st = runtime_->PodSandboxStatus(&ctx, req, &resp);
    EXPECT_TRUE(st.ok() || st.error_code() == grpc::StatusCode::NOT_FOUND)
        << "after " << calls[i].first << ": PodSandboxStatus " << st.error_message();
  }
  EXPECT_EQ(TempFiles(), std::vector<std::string>{});
  std::cout << failed.size() << " of " << calls.size()
            << " ending calls answered RESOURCE_EXHAUSTED on the full disk" << std::endl;

  // Room again: what failed is done now, the volume snapshots and attaches.
  FreeSpace();
  for (size_t i : failed) {
    if (calls[i].first == "StartContainer") {
      // A start that failed leaves the container exited, as containerd does (kubelet makes a new
      // one); the pod's removal below takes it away.
      continue;
    }
    grpc::Status s = calls[i].second();
    EXPECT_TRUE(s.ok()) << calls[i].first << " once space is free: " << s.error_message();
  }
  EXPECT_EQ(PodCount(), 0U);
  v1::PodSandboxConfig again = PodConfig("again");
  std::string pod2 = RunPod(again);
  ASSERT_FALSE(pod2.empty());
  std::string ctr2;
  ASSERT_TRUE(::cricket::testing::CreateContainer(
                  *runtime_, pod2, again,
                  MakeShellContainer("vol", image_, "exec busybox sleep 100", volume), &ctr2)
                  .ok());
  ASSERT_TRUE(StartContainer(ctr2).ok());
  v1::ExecSyncResponse out;
  ASSERT_TRUE(Exec(ctr2, "cat /data/f", &out).ok());
  EXPECT_EQ(out.stdout(), "data\n");  // the volume came back with what was written before
  EXPECT_TRUE(SnapshotVolume(*admin, "vol", &snap).ok());
  EXPECT_TRUE(StopAndRemovePod(*runtime_, pod2).ok());
  EXPECT_EQ(PodCount(), 0U);
}

}  // namespace
}  // namespace cricket::testing
