// Volume snapshots through a real registry (Debian's docker-registry from the storage fixture,
// hack/test-registry, loopback only): push, pull, incremental transfer, checksums, corruption.

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/files.h"
#include "storage/http_client.h"
#include "storage/volumes/snapshots/oci_snapshot_store.h"
#include "storage/volumes/snapshots/volume_restore.h"
#include "storage/volumes/snapshots/volume_snapshot.h"
#include "tests/support/registry_fixture.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/volumes_snapshots/volume_tree.h"

namespace cricket::storage::volumes {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::DescribeTree;
using testing::RandomBytes;
using testing::WriteFile;

constexpr int64_t kMiB = 1 << 20;

class OciSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = ::cricket::testing::RegistryFixtureEnv();
    if (env_.count("REGISTRY") == 0) {
      GTEST_SKIP() << "needs the registry fixture: run through ctest (hack/test-registry/start)";
    }
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::transform(test.begin(), test.end(), test.begin(), ::tolower);
    repository_ = "cricket-volumes/" + test + "-" + std::to_string(::getpid());
    store_ = OpenStore(env_["REGISTRY"], {});
    volume_ = tmp_.Join("volume");
    ASSERT_TRUE(MakeDirs(volume_, 0755).ok());
  }

  std::unique_ptr<OciSnapshotStore> OpenStore(const std::string& registry, AuthConfig auth) {
    OciStoreOptions options;
    options.auth = std::move(auth);
    options.timeout = std::chrono::seconds(30);
    auto store = OciSnapshotStore::Create(registry + "/" + repository_, http_, options);
    EXPECT_TRUE(store.ok()) << store.error().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  SnapshotResult Snap(SnapshotStore& store, const std::string& parent,
                      const std::string& state = "") {
    SnapshotOptions options;
    options.tag = "head";
    auto r = Snapshot(volume_, state.empty() ? tmp_.Join("state") : state, store, parent, options);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : SnapshotResult{};
  }

  RestoreResult Restored(SnapshotStore& store, const std::string& digest,
                         const std::string& target, const std::string& cache) {
    auto r = Restore(digest, store, cache, target);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : RestoreResult{};
  }

  std::map<std::string, std::string> env_;
  HttpClient http_{CRICKET_FETCH_PATH};
  cricket::testing::TempDir tmp_{"volsnap-oci"};
  std::string repository_;
  std::string volume_;
  std::unique_ptr<OciSnapshotStore> store_;
};

TEST_F(OciSnapshotTest, PushesAndPullsASnapshotThroughTheRegistry) {
  WriteFile(volume_ + "/etc/app.conf", "key = value\n", 0640);
  WriteFile(volume_ + "/data/blob", RandomBytes(256 * 1024, 11));
  ASSERT_TRUE(MakeDirs(volume_ + "/empty", 0700).ok());
  fs::create_symlink("../etc/app.conf", volume_ + "/data/conf");

  SnapshotResult first = Snap(*store_, "");
  ASSERT_TRUE(first.new_layer);
  EXPECT_GT(first.bytes_uploaded, 256 * 1024);
  std::string target = tmp_.Join("restored");
  RestoreResult r = Restored(*store_, first.manifest_digest, target, tmp_.Join("cache"));
  EXPECT_EQ(r.layer_count, 1);
  EXPECT_EQ(DescribeTree(target), DescribeTree(volume_));

  // Another change: only the new layer and config go up; the registry already has the base.
  WriteFile(volume_ + "/etc/app.conf", "key = other\n", 0640);
  SnapshotResult second = Snap(*store_, first.manifest_digest);
  EXPECT_EQ(second.layer_count, 2);
  EXPECT_LT(second.bytes_uploaded, 4096);
  RestoreResult r2 = Restored(*store_, second.manifest_digest, target, tmp_.Join("cache"));
  EXPECT_EQ(r2.blobs_downloaded, 2);
  EXPECT_EQ(DescribeTree(target), DescribeTree(volume_));
}

TEST_F(OciSnapshotTest, OneMegabyteChangeAfterABiggerBaseMovesAboutOneMegabyte) {
  for (int i = 0; i < 24; ++i) {
    WriteFile(volume_ + "/base/f" + std::to_string(i), RandomBytes(256 * 1024, 100 + i));
  }
  SnapshotResult base = Snap(*store_, "");
  EXPECT_GT(base.bytes_uploaded, 6 * kMiB);
  // Node B restores the base, so its layer cache holds it.
  std::string cache_b = tmp_.Join("cache-b");
  Restored(*store_, base.manifest_digest, tmp_.Join("on-b"), cache_b);

  WriteFile(volume_ + "/base/f3", RandomBytes(kMiB, 7));
  SnapshotResult change = Snap(*store_, base.manifest_digest);
  EXPECT_GT(change.bytes_uploaded, kMiB);
  EXPECT_LT(change.bytes_uploaded, 2 * kMiB);
  RestoreResult r = Restored(*store_, change.manifest_digest, tmp_.Join("on-b"), cache_b);
  EXPECT_GT(r.bytes_downloaded, kMiB);
  EXPECT_LT(r.bytes_downloaded, 2 * kMiB);
  EXPECT_EQ(DescribeTree(tmp_.Join("on-b")), DescribeTree(volume_));
}

TEST_F(OciSnapshotTest, ManyFilesKeepTheirChecksumsInAnotherDirectory) {
  for (int d = 0; d < 20; ++d) {
    for (int f = 0; f < 100; ++f) {
      std::string name = "/d" + std::to_string(d) + "/sub/f" + std::to_string(f);
      WriteFile(volume_ + name, RandomBytes(static_cast<size_t>(64 + f * 37), d * 1000 + f),
                f % 3 == 0 ? 0600 : 0644);
    }
  }
  SnapshotResult s = Snap(*store_, "");
  std::string target = tmp_.Join("elsewhere");
  Restored(*store_, s.manifest_digest, target, tmp_.Join("cache"));
  auto want = DescribeTree(volume_);
  EXPECT_EQ(want.size(), 1u + 20u * 2u + 2000u);
  EXPECT_EQ(DescribeTree(target), want);
}

TEST_F(OciSnapshotTest, PushesWithBasicAuth) {
  AuthConfig auth;
  auth.username = env_["AUTH_USER"];
  auth.password = env_["AUTH_PASSWORD"];
  auto store = OpenStore(env_["AUTH_REGISTRY"], auth);
  ASSERT_NE(store, nullptr);
  WriteFile(volume_ + "/f", "authenticated");
  SnapshotResult s = Snap(*store, "");
  ASSERT_FALSE(s.manifest_digest.empty());
  Restored(*store, s.manifest_digest, tmp_.Join("r"), tmp_.Join("cache"));
  EXPECT_EQ(DescribeTree(tmp_.Join("r")), DescribeTree(volume_));

  auto anonymous = OpenStore(env_["AUTH_REGISTRY"], {});
  auto r = Snapshot(volume_, tmp_.Join("state-anon"), *anonymous, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kUnauthenticated) << r.error().ToString();
}

TEST_F(OciSnapshotTest, CorruptedBlobInTheRegistryIsDataLossAndTargetIsUntouched) {
  WriteFile(volume_ + "/f", RandomBytes(100000, 9));
  SnapshotResult s = Snap(*store_, "");
  auto body = store_->GetManifest(s.manifest_digest);
  ASSERT_TRUE(body.ok());
  auto manifest = ParseImageManifest(*body);
  ASSERT_TRUE(manifest.ok());
  std::string layer = manifest->layers[0].digest;
  std::string hex = layer.substr(7);
  std::string blob = env_["STATE"] + "/open/data/docker/registry/v2/blobs/sha256/" +
                     hex.substr(0, 2) + "/" + hex + "/data";
  ASSERT_TRUE(fs::exists(blob)) << blob;
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(5000);
    f.write("CORRUPT", 7);
  }
  std::string target = tmp_.Join("target");
  WriteFile(target + "/mine", "keep me");
  auto before = DescribeTree(target);
  auto r = Restore(s.manifest_digest, *store_, tmp_.Join("cache"), target);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kDataLoss) << r.error().ToString();
  EXPECT_THAT(r.error().message(), HasSubstr(layer));
  EXPECT_EQ(DescribeTree(target), before);
}

TEST_F(OciSnapshotTest, UnreachableRegistryIsUnavailable) {
  auto store = OpenStore("127.0.0.1:1", {});
  ASSERT_NE(store, nullptr);
  WriteFile(volume_ + "/f", "x");
  SnapshotOptions options;
  auto r = Snapshot(volume_, tmp_.Join("state"), *store, "", options);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().code(), ::testing::AnyOf(Code::kUnavailable, Code::kDeadlineExceeded));
  EXPECT_THAT(r.error().message(), HasSubstr("127.0.0.1:1"));
}

}  // namespace
}  // namespace cricket::storage::volumes
