// Portable volumes through real cricketd processes (issue #7): two "nodes" on one machine
// sharing a local coordination dir and a dir snapshot store. Root; the test image comes from
// the registry fixture.

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <future>
#include <map>
#include <sstream>

#include "tests/integration/cri/portable_volume_fixture.h"
#include "tests/support/etcd_fixture.h"

namespace cricket {
namespace {

using namespace std::chrono_literals;
namespace v1 = ::runtime::v1;

class PortableVolumeTest : public ::cricket::testing::PortableVolumeFixture {};

// ~3 MB in 200 files across nested directories, plus a symlink and an empty dir.
constexpr const char* kWriteVolume =
    "mkdir -p /data/empty /data/a/b; i=0; while [ $i -lt 200 ]; do "
    "busybox dd if=/dev/urandom of=/data/a/b/f$i bs=16k count=1 2>/dev/null || exit 1; "
    "i=$((i+1)); done; echo hello > /data/top; busybox ln -s top /data/link";

std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) {
    out.append(buf, n);
  }
  ::pclose(pipe);
  return out;
}

TEST_F(PortableVolumeTest, FollowsThePodToAnotherNode) {
  Start(a_);
  Start(b_);
  auto [pod_a, ctr_a] = PodWithVolume(a_, "writer", "pgdata");
  ASSERT_FALSE(ctr_a.empty());
  Exec(a_, ctr_a, kWriteVolume);
  const std::string sums = Exec(a_, ctr_a, kChecksums);
  ASSERT_NE(sums.find("a/b/f199"), std::string::npos) << sums;

  // Operators see the owner (admin API and cricketctl) and the pod's verbose status.
  auto row = FindVolume(a_, "pgdata");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->owner(), "node-a");
  EXPECT_TRUE(row->attached_here());
  EXPECT_GT(row->token(), 0);
  const std::string table = RunCommand(std::string(CRICKETCTL_PATH) + " --socket " + a_.socket() +
                                " volumes ls");
  EXPECT_NE(table.find("pgdata"), std::string::npos) << table;
  EXPECT_NE(table.find("node-a"), std::string::npos) << table;
  {
    grpc::ClientContext ctx;
    v1::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(pod_a);
    req.set_verbose(true);
    v1::PodSandboxStatusResponse resp;
    ASSERT_TRUE(a_.runtime->PodSandboxStatus(&ctx, req, &resp).ok());
    EXPECT_NE(resp.info().at("info").find("\"portableVolumes\":[{"), std::string::npos)
        << resp.info().at("info");
  }

  ASSERT_TRUE(RemovePod(a_, pod_a).ok());
  row = FindVolume(a_, "pgdata");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->owner(), "");
  EXPECT_FALSE(row->head().empty());

  auto [pod_b, ctr_b] = PodWithVolume(b_, "reader", "pgdata");
  ASSERT_FALSE(ctr_b.empty());
  EXPECT_EQ(Exec(b_, ctr_b, kChecksums), sums);
  EXPECT_EQ(Exec(b_, ctr_b, "busybox readlink /data/link; cat /data/link; ls -d /data/empty"),
            "top\nhello\n/data/empty\n");
  EXPECT_EQ(FindVolume(b_, "pgdata")->owner(), "node-b");
}

// Bytes of the blobs in a ContentStore layout (the dir snapshot store, a node's layer cache)
// that `before` did not have.
int64_t NewBlobBytes(const std::string& store, const std::map<std::string, int64_t>& before,
                     std::map<std::string, int64_t>* now = nullptr) {
  std::map<std::string, int64_t> blobs;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(store + "/blobs/sha256", ec)) {
    blobs[e.path().filename()] = static_cast<int64_t>(e.file_size(ec));
  }
  int64_t n = 0;
  for (const auto& [name, size] : blobs) {
    n += before.contains(name) ? 0 : size;
  }
  if (now != nullptr) {
    *now = std::move(blobs);
  }
  return n;
}

// Issue #7 "Incremental": after the follow A -> B, 1 MiB changed on B goes back to A as new
// layers (the final snapshot's, and those of periodic snapshots taken during the rewrite): B
// uploads (new blobs in the shared dir store) and A downloads (new blobs in its layer cache)
// about 1 MiB each, not the ~3 MiB base again.
TEST_F(PortableVolumeTest, OnlyTheNewLayerMovesWhenTheVolumeComesBack) {
  Start(a_);
  Start(b_);
  auto [pod_a, ctr_a] = PodWithVolume(a_, "writer", "pgdata");
  ASSERT_FALSE(ctr_a.empty());
  Exec(a_, ctr_a, kWriteVolume);
  ASSERT_TRUE(RemovePod(a_, pod_a).ok());
  auto [pod_b, ctr_b] = PodWithVolume(b_, "reader", "pgdata");
  ASSERT_FALSE(ctr_b.empty());
  ASSERT_NE(Exec(b_, ctr_b, kChecksums).find("a/b/f199"), std::string::npos);

  // Before the rewrite: B snapshots every 0.3 s, so part of the change may go up while the
  // rewrite runs, before B's final snapshot.
  std::map<std::string, int64_t> store_before;
  NewBlobBytes(dir_.Join("store"), {}, &store_before);
  // 64 of the 16 KiB files rewritten: 1 MiB of new random data.
  Exec(b_, ctr_b,
       "i=0; while [ $i -lt 64 ]; do busybox dd if=/dev/urandom of=/data/a/b/f$i bs=16k "
       "count=1 conv=notrunc 2>/dev/null || exit 1; i=$((i+1)); done");
  const std::string sums = Exec(b_, ctr_b, kChecksums);
  std::map<std::string, int64_t> cache_before;
  const int64_t base = NewBlobBytes(a_.root() + "/volumes/cache", {}, &cache_before);
  ASSERT_GT(base, 3 << 20);  // A's cache holds the base layer it produced

  ASSERT_TRUE(RemovePod(b_, pod_b).ok());
  auto [pod_a2, ctr_a2] = PodWithVolume(a_, "writer2", "pgdata");
  ASSERT_FALSE(ctr_a2.empty());
  EXPECT_EQ(Exec(a_, ctr_a2, kChecksums), sums);

  const int64_t uploaded = NewBlobBytes(dir_.Join("store"), store_before);
  const int64_t downloaded = NewBlobBytes(a_.root() + "/volumes/cache", cache_before);
  EXPECT_GE(uploaded, 1 << 20);
  EXPECT_LT(uploaded, 2 << 20);
  EXPECT_GE(downloaded, 1 << 20);
  EXPECT_LT(downloaded, 2 << 20);
}

TEST_F(PortableVolumeTest, ExactlyOneNodeAttachesAContendedVolume) {
  Start(a_);
  Start(b_);
  auto config_a = PodConfig(a_, "one");
  auto config_b = PodConfig(b_, "two");
  std::string pod_a = RunPod(a_, config_a);
  std::string pod_b = RunPod(b_, config_b);
  const std::string host_path = portable_root() + "/shared";
  std::string ctr_a;
  std::string ctr_b;
  auto fa = std::async(std::launch::async,
                       [&] { return CreateContainer(a_, pod_a, config_a, "c", host_path, &ctr_a); });
  auto fb = std::async(std::launch::async,
                       [&] { return CreateContainer(b_, pod_b, config_b, "c", host_path, &ctr_b); });
  grpc::Status sa = fa.get();
  grpc::Status sb = fb.get();
  ASSERT_NE(sa.ok(), sb.ok()) << sa.error_message() << " / " << sb.error_message();
  ::cricket::testing::VolumeNode& winner = sa.ok() ? a_ : b_;
  ::cricket::testing::VolumeNode& loser = sa.ok() ? b_ : a_;
  const grpc::Status& lost = sa.ok() ? sb : sa;
  EXPECT_EQ(lost.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(lost.error_message().find("owned by node " + winner.name), std::string::npos)
      << lost.error_message();

  // The loser left nothing: no container, no attachment.
  {
    grpc::ClientContext ctx;
    v1::ListContainersResponse list;
    ASSERT_TRUE(loser.runtime->ListContainers(&ctx, {}, &list).ok());
    EXPECT_EQ(list.containers_size(), 0);
    EXPECT_FALSE(FindVolume(loser, "shared")->attached_here());
  }

  // kubelet's retry succeeds once the winner's pod is gone.
  ASSERT_TRUE(RemovePod(winner, sa.ok() ? pod_a : pod_b).ok());
  std::string retried;
  grpc::Status again = CreateContainer(loser, sa.ok() ? pod_b : pod_a,
                                       sa.ok() ? config_b : config_a, "c", host_path, &retried);
  EXPECT_TRUE(again.ok()) << again.error_message();
}

TEST_F(PortableVolumeTest, RefusesPathsThatEscapeThePortableRoot) {
  Start(a_);
  auto config = PodConfig(a_, "bad");
  std::string pod = RunPod(a_, config);
  std::string ctr;
  for (const std::string& path :
       {portable_root() + "/../etc", portable_root() + "/vol/../../etc", portable_root() + "/",
        portable_root() + "/vol/sub", portable_root() + "/.hidden"}) {
    grpc::Status status = CreateContainer(a_, pod, config, "c", path, &ctr);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << path << ": " << status.error_message();
  }
  // A symlink outside the root leading into it.
  ASSERT_TRUE(MakeDirs(portable_root(), 0755).ok());
  std::filesystem::create_directory_symlink(portable_root(), dir_.Join("sneaky"));
  grpc::Status status = CreateContainer(a_, pod, config, "c", dir_.Join("sneaky") + "/vol", &ctr);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(status.error_message().find("symlink"), std::string::npos) << status.error_message();
  grpc::ClientContext ctx;
  v1::ListContainersResponse list;
  ASSERT_TRUE(a_.runtime->ListContainers(&ctx, {}, &list).ok());
  EXPECT_EQ(list.containers_size(), 0);
  EXPECT_TRUE(ListVolumes(a_).volumes().empty());
}

TEST_F(PortableVolumeTest, UnknownBackendKeepsCricketdFromStarting) {
  WriteNodeConfig(a_, "[volumes]\ncoordination = \"zookeeper\"\n");
  a_.starts = 0;
  auto daemon = Launch(a_);
  auto status = daemon->WaitExit(20s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0);
  EXPECT_NE(daemon->Stderr().find("volumes.coordination: expected local or etcd, got \"zookeeper\""),
            std::string::npos)
      << daemon->Stderr();
  a_.starts = 0;  // nothing to clean up
}

TEST_F(PortableVolumeTest, CorruptedSnapshotFailsCreateAndLeavesNothing) {
  Start(a_);
  Start(b_);
  auto [pod_a, ctr_a] = PodWithVolume(a_, "writer", "fragile");
  ASSERT_FALSE(ctr_a.empty());
  Exec(a_, ctr_a, kWriteVolume);
  ASSERT_TRUE(RemovePod(a_, pod_a).ok());
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.Join("store/blobs"))) {
    if (e.is_regular_file() && e.file_size() > 4096) {  // the layers, not manifest or config
      ASSERT_TRUE(WriteFileAtomic(e.path().string(), std::string(e.file_size(), 'x'), 0644).ok());
    }
  }
  auto config = PodConfig(b_, "reader");
  std::string pod = RunPod(b_, config);
  std::string ctr;
  grpc::Status status =
      CreateContainer(b_, pod, config, "c", portable_root() + "/fragile", &ctr);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS) << status.error_message();
  EXPECT_NE(status.error_message().find("restore volume fragile"), std::string::npos)
      << status.error_message();
  grpc::ClientContext ctx;
  v1::ListContainersResponse list;
  ASSERT_TRUE(b_.runtime->ListContainers(&ctx, {}, &list).ok());
  EXPECT_EQ(list.containers_size(), 0);
  EXPECT_FALSE(FindVolume(b_, "fragile")->attached_here());
  EXPECT_EQ(FindVolume(b_, "fragile")->owner(), "");  // the lease went back
  EXPECT_FALSE(std::filesystem::exists(b_.data("fragile")));
}

TEST_F(PortableVolumeTest, NodeDeathHandsTheLastPeriodicSnapshotOverAndFencesTheOldCopy) {
  Start(a_);
  Start(b_);
  auto [pod_a, ctr_a] = PodWithVolume(a_, "writer", "journal");
  ASSERT_FALSE(ctr_a.empty());
  Exec(a_, ctr_a, "echo v1 > /data/f");
  // Periodic snapshots run every 0.3 s: wait until one published v1.
  std::string head;
  for (int i = 0; i < 100; ++i) {
    auto row = FindVolume(a_, "journal");
    if (row && row->snapshots() > 0 && row->last_snapshot_unix_ms() > 0) {
      std::this_thread::sleep_for(1s);  // at least one snapshot taken after the write
      head = FindVolume(a_, "journal")->head();
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(head.empty());

  // Node death: cricketd and the container's processes are SIGKILLed (by PID); the last
  // writes never made it into a snapshot.
  a_.daemon->Signal(SIGKILL);
  ASSERT_TRUE(a_.daemon->WaitExit(10s).has_value());
  auto procs = ReadFile("/sys/fs/cgroup/cricket/" + ctr_a + "/cgroup.procs");
  if (procs.ok()) {
    std::istringstream in(*procs);
    for (pid_t pid; in >> pid;) {
      ::kill(pid, SIGKILL);
    }
  }
  ASSERT_TRUE(WriteFileAtomic(a_.data("journal") + "/f", "unpublished\n", 0644).ok());

  // B takes over at once (the local lock died with A's cricketd) and sees v1.
  auto [pod_b, ctr_b] = PodWithVolume(b_, "reader", "journal");
  ASSERT_FALSE(ctr_b.empty());
  EXPECT_EQ(Exec(b_, ctr_b, "cat /data/f"), "v1\n");
  Exec(b_, ctr_b, "echo from-b > /data/f");

  // A comes back: its copy is stale, never published, never served.
  Start(a_, /*pull=*/false);
  auto stale = FindVolume(a_, "journal");
  ASSERT_TRUE(stale.has_value());
  EXPECT_TRUE(stale->stale()) << stale->stale_reason();
  EXPECT_EQ(stale->owner(), "node-b");
  {
    auto config = PodConfig(a_, "again");
    std::string pod = RunPod(a_, config);
    std::string ctr;
    grpc::Status refused =
        CreateContainer(a_, pod, config, "c", portable_root() + "/journal", &ctr);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
    ASSERT_TRUE(RemovePod(a_, pod).ok());
  }
  ASSERT_TRUE(RemovePod(a_, pod_a).ok());  // detaches the stale copy without publishing
  // The head is A's last periodic snapshot (what B restored) or one B published since; never
  // one from A's stale copy.
  auto head_row = FindVolume(b_, "journal");
  EXPECT_TRUE(head_row->head() == head || head_row->head_token() == head_row->token())
      << head_row->head() << " token " << head_row->head_token();
  EXPECT_FALSE(FindVolume(a_, "journal")->attached_here());

  // B hands it back: A restores B's data instead of serving its stale copy.
  ASSERT_TRUE(RemovePod(b_, pod_b).ok());
  auto [pod_a2, ctr_a2] = PodWithVolume(a_, "writer2", "journal");
  ASSERT_FALSE(ctr_a2.empty());
  EXPECT_EQ(Exec(a_, ctr_a2, "cat /data/f"), "from-b\n");
}

}  // namespace
}  // namespace cricket

namespace cricket {
namespace {

// The same hand-over with the cluster backends: ownership in etcd, snapshots as OCI artifacts
// in the registry fixture.
class PortableVolumeEtcdOciTest : public ::cricket::testing::PortableVolumeFixture {
 protected:
  void SetUp() override {
    PortableVolumeFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    CR_REQUIRE_ETCD();
    std::string error;
    etcd_ = ::cricket::testing::EtcdServer::Start(&error);
    ASSERT_NE(etcd_, nullptr) << error;
  }

  std::string VolumesSection(const ::cricket::testing::VolumeNode& node) override {
    return "[volumes]\nportable_root = \"" + portable_root() + "\"\nnode_name = \"" + node.name +
           "\"\ncoordination = \"etcd\"\netcd_endpoints = [\"" + etcd_->endpoint() +
           "\"]\netcd_prefix = \"/crtest-" + std::to_string(::getpid()) +
           "/\"\nlease_ttl_seconds = 2\nsnapshot_store = \"oci\"\nsnapshot_repository = \"" +
           registry_ + "/crtest-volumes-" + std::to_string(::getpid()) +
           "\"\nsnapshot_interval_seconds = 0.5\n";
  }

  std::unique_ptr<::cricket::testing::EtcdServer> etcd_;
};

TEST_F(PortableVolumeEtcdOciTest, FollowsThePodThroughEtcdAndTheRegistry) {
  Start(a_);
  Start(b_);
  auto [pod_a, ctr_a] = PodWithVolume(a_, "writer", "pgdata");
  ASSERT_FALSE(ctr_a.empty());
  Exec(a_, ctr_a, kWriteVolume);
  const std::string sums = Exec(a_, ctr_a, kChecksums);
  auto config_b = PodConfig(b_, "early");
  std::string early = RunPod(b_, config_b);
  std::string ctr;
  grpc::Status refused =
      CreateContainer(b_, early, config_b, "c", portable_root() + "/pgdata", &ctr);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
  EXPECT_NE(refused.error_message().find("node-a"), std::string::npos) << refused.error_message();
  ASSERT_TRUE(RemovePod(b_, early).ok());
  ASSERT_TRUE(RemovePod(a_, pod_a).ok());

  auto [pod_b, ctr_b] = PodWithVolume(b_, "reader", "pgdata");
  ASSERT_FALSE(ctr_b.empty());
  EXPECT_EQ(Exec(b_, ctr_b, kChecksums), sums);
  auto row = FindVolume(b_, "pgdata");
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->owner(), "node-b");
}

}  // namespace
}  // namespace cricket

namespace cricket {
namespace {
// Manual: CRICKET_VOLNODES_DIR=/tmp/crtest-...-volnodes-XXXX removes the pods and bridges a
// crashed test run left (its daemons must still run, or be startable on the same roots).
class PortableVolumeLeftovers : public ::cricket::testing::PortableVolumeFixture {};
TEST_F(PortableVolumeLeftovers, DISABLED_Clean) {
  const char* dir = std::getenv("CRICKET_VOLNODES_DIR");
  ASSERT_NE(dir, nullptr);
  std::string tag = std::string(dir).substr(std::string("/tmp/crtest-").size());
  tag = tag.substr(0, tag.find('-'));
  for (auto [node, letter] : {std::pair{&a_, "a"}, std::pair{&b_, "b"}}) {
    node->dir = std::string(dir) + "/node-" + letter;
    node->bridge = std::string("cv") + letter + std::to_string(std::stoi(tag) % 100000);
    node->subnet = std::string("10.") + (letter[0] == 'a' ? "231." : "232.") +
                   std::to_string(std::stoi(tag) % 250) + ".0/24";
    node->starts = 1;
    CleanNode(*node);
  }
}
}  // namespace
}  // namespace cricket
