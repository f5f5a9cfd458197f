// Pulls from the local registries of hack/test-registry (a CTest fixture) and from FakeRegistry.
// Only loopback addresses are contacted.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "common/cleanup.h"
#include "common/files.h"
#include "common/syscalls.h"
#include "storage/auth_challenge.h"
#include "storage/image_store.h"
#include "tests/integration/storage/fake_registry.h"
#include "tests/integration/storage/test_store_options.h"
#include "tests/support/registry_fixture.h"
#include "tests/support/temp_dir.h"

namespace cricket::storage {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using std::chrono::steady_clock;

class RegistryPullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = ::cricket::testing::RegistryFixtureEnv();
    if (env_.count("REGISTRY") == 0) {
      GTEST_SKIP() << "needs the registry fixture: run through ctest (hack/test-registry/start)";
    }
    registry_ = env_["REGISTRY"];
    OpenStore();
  }

  void OpenStore(RegistryConfig registry = {}) {
    store_.reset();
    ImageStoreOptions options = TestStoreOptions(dir_.Join("root"));
    options.registry = std::move(registry);
    options.pinned = pinned_;
    auto store = ImageStore::Open(options, sys_);
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(*store);
  }

  size_t Count(const std::string& sub) {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_.Join("root/" + sub))) {
      ++n;
    }
    return n;
  }

  std::map<std::string, std::string> env_;
  std::string registry_;
  std::vector<std::string> pinned_;
  cricket::testing::TempDir dir_{"pull"};
  LinuxSyscalls sys_;
  std::unique_ptr<ImageStore> store_;
};

TEST_F(RegistryPullTest, PullByTag) {
  std::string ref = registry_ + "/test/busybox:latest";
  auto image = store_->Pull(ref, {});
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  EXPECT_EQ(image->id, env_["BUSYBOX_CONFIG"]);
  EXPECT_EQ(image->repo_tags, std::vector<std::string>{ref});
  EXPECT_EQ(image->repo_digests,
            std::vector<std::string>{registry_ + "/test/busybox@" + env_["BUSYBOX_MANIFEST"]});
  EXPECT_EQ(image->size_bytes, std::stoll(env_["BUSYBOX_SIZE"]));
  EXPECT_EQ(image->config.user, "app");
  EXPECT_EQ(ParseImageUser(image->config.user).username, "app");
  EXPECT_EQ(image->config.env, (std::vector<std::string>{"PATH=/bin", "GREETING=hello"}));
  EXPECT_EQ(image->config.entrypoint, (std::vector<std::string>{"/bin/sh", "-c"}));
  EXPECT_EQ(image->config.cmd, (std::vector<std::string>{"echo $GREETING"}));
  EXPECT_EQ(image->config.working_dir, "/home/app");
  EXPECT_EQ(image->config.stop_signal, "SIGQUIT");
  EXPECT_EQ(image->config.volumes, std::vector<std::string>{"/data"});
  EXPECT_EQ(image->config.labels.at("org.cricket.test"), "busybox");

  auto lowers = store_->snapshotter().LowerDirs(image->chain_id);
  ASSERT_TRUE(lowers.ok()) << lowers.error().ToString();
  ASSERT_EQ(lowers->size(), 2U);
  const std::string& base = (*lowers)[1];
  const std::string& top = (*lowers)[0];
  struct stat bb {};
  struct stat ls {};
  ASSERT_EQ(::stat((base + "/bin/busybox").c_str(), &bb), 0);
  ASSERT_EQ(::stat((base + "/bin/ls").c_str(), &ls), 0);
  EXPECT_EQ(bb.st_ino, ls.st_ino);  // hardlink
  EXPECT_EQ(fs::read_symlink(base + "/bin/sh"), "busybox");
  struct stat wh {};
  ASSERT_EQ(::lstat((top + "/etc/motd").c_str(), &wh), 0);
  EXPECT_TRUE(S_ISCHR(wh.st_mode));  // whiteout
  if (cricket::testing::IsRoot()) {
    struct stat home {};
    ASSERT_EQ(::stat((top + "/home/app").c_str(), &home), 0);
    EXPECT_EQ(home.st_uid, 1000U);
  }
  // Pulling again downloads nothing new.
  int64_t before = store_->blob_requests();
  ASSERT_TRUE(store_->Pull(ref, {}).ok());
  EXPECT_EQ(store_->blob_requests(), before);
}

// #17.4: `cricketctl images pull` shows what the observer sees: every layer, ending all done
// with its full size.
TEST_F(RegistryPullTest, PullReportsLayerProgressToItsObserver) {
  std::vector<PullProgress> seen;
  auto image = store_->Pull(registry_ + "/test/busybox:latest", {}, Deadline::max(),
                            [&](const PullProgress& p) { seen.push_back(p); });
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  ASSERT_GE(seen.size(), 2U);  // once the layers are known, once at the end
  const PullProgress& last = seen.back();
  ASSERT_EQ(last.layers.size(), 2U);
  for (size_t i = 0; i < last.layers.size(); ++i) {
    EXPECT_TRUE(last.done[i]);
    EXPECT_EQ(last.fetched_bytes[i], last.layers[i].size);
    EXPECT_EQ(last.layers[i].digest, image->blobs[3 + i]);
  }
}

TEST_F(RegistryPullTest, UnpackedLayersAreNotDownloadedAgain) {
  auto image = store_->Pull(registry_ + "/test/busybox:latest", {});
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  // Drop the compressed layers: their unpacked snapshots are all a pull needs.
  for (const std::string& layer :
       {env_["BUSYBOX_LAYERS"].substr(0, env_["BUSYBOX_LAYERS"].find(',')),
        env_["BUSYBOX_LAYERS"].substr(env_["BUSYBOX_LAYERS"].find(',') + 1)}) {
    ASSERT_TRUE(store_->content().Delete(layer).ok());
  }
  int64_t before = store_->blob_requests();
  auto again = store_->Pull(registry_ + "/test/multi:latest", {});
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(store_->blob_requests(), before);
}

TEST_F(RegistryPullTest, ContainerRootfsMergedView) {
  CR_REQUIRE_ROOT();
  auto image = store_->Pull(registry_ + "/test/busybox:latest", {});
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  Snapshotter& snaps = store_->snapshotter();
  ASSERT_TRUE(snaps.Prepare("crtest-rootfs", image->chain_id).ok());
  std::string merged = dir_.Join("merged");
  ASSERT_TRUE(MakeDirs(merged, 0755).ok());
  auto mounted = snaps.Mount("crtest-rootfs", merged);
  ASSERT_TRUE(mounted.ok()) << mounted.error().ToString();
  Cleanup unmount([&] { (void)snaps.Unmount(merged); });
  EXPECT_FALSE(fs::exists(merged + "/etc/motd"));  // whiteout in layer 2
  EXPECT_TRUE(fs::exists(merged + "/etc/passwd"));
  EXPECT_FALSE(fs::exists(merged + "/var/cache/old"));  // opaque dir in layer 2
  EXPECT_EQ(*ReadFile(merged + "/var/cache/new"), "layer 2\n");
  EXPECT_EQ(fs::read_symlink(merged + "/bin/sh"), "busybox");
  struct stat home {};
  ASSERT_EQ(::stat((merged + "/home/app").c_str(), &home), 0);
  EXPECT_EQ(home.st_uid, 1000U);
  EXPECT_EQ(home.st_mode & 07777, 0750U);
  ASSERT_TRUE(snaps.Unmount(merged).ok());
  unmount.Dismiss();
  ASSERT_TRUE(snaps.Remove("crtest-rootfs").ok());
}

TEST_F(RegistryPullTest, PullByDigestAndByTagPlusDigest) {
  std::string by_digest = registry_ + "/test/busybox@" + env_["BUSYBOX_MANIFEST"];
  auto image = store_->Pull(by_digest, {});
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  EXPECT_EQ(image->id, env_["BUSYBOX_CONFIG"]);
  EXPECT_TRUE(image->repo_tags.empty());
  EXPECT_EQ(image->repo_digests, std::vector<std::string>{by_digest});
  auto both = store_->Pull(registry_ + "/test/busybox:v1@" + env_["BUSYBOX_MANIFEST"], {});
  ASSERT_TRUE(both.ok()) << both.error().ToString();
  EXPECT_EQ(both->repo_tags, std::vector<std::string>{registry_ + "/test/busybox:v1"});
  auto wrong = store_->Pull(registry_ + "/test/busybox@sha256:" + std::string(64, 'a'), {});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code(), Code::kNotFound) << wrong.error().ToString();
}

TEST_F(RegistryPullTest, PullThroughIndexSelectsPlatform) {
  auto image = store_->Pull(registry_ + "/test/multi:latest", {});
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  EXPECT_EQ(image->id, env_["BUSYBOX_CONFIG"]);  // the amd64 entry is the busybox manifest
  EXPECT_EQ(image->manifest_digest, env_["MULTI_AMD64_MANIFEST"]);
  EXPECT_EQ(image->repo_digests,
            std::vector<std::string>{registry_ + "/test/multi@" + env_["MULTI_INDEX"]});
}

TEST_F(RegistryPullTest, MissingPlatformIsNotFound) {
  store_.reset();
  ImageStoreOptions options;
  options.root = dir_.Join("root");
  options.fetch_binary = CRICKET_FETCH_PATH;
  options.platform = Platform{"linux", "s390x", ""};
  auto store = ImageStore::Open(options, sys_);
  ASSERT_TRUE(store.ok());
  auto image = (*store)->Pull(registry_ + "/test/multi:latest", {});
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.error().code(), Code::kNotFound);
  EXPECT_NE(image.error().message().find("linux/s390x"), std::string::npos);
}

TEST_F(RegistryPullTest, StatusListRemoveRoundTripAndGc) {
  std::string latest = registry_ + "/test/busybox:latest";
  std::string v1 = registry_ + "/test/busybox:v1";
  ASSERT_TRUE(store_->Pull(latest, {}).ok());
  auto image = store_->Pull(v1, {});
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(image->repo_tags, (std::vector<std::string>{latest, v1}));
  auto list = store_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1U);  // two tags of one image are one image
  std::string id = image->id;
  for (const std::string& name :
       {id, id.substr(7), id.substr(7, 12), latest, v1, image->repo_digests[0]}) {
    auto status = store_->Status(name);
    ASSERT_TRUE(status.ok()) << name << ": " << status.error().ToString();
    EXPECT_EQ(status->id, id);
    EXPECT_EQ(status->repo_tags, image->repo_tags);
  }
  EXPECT_EQ(store_->Status(registry_ + "/test/other:latest").error().code(), Code::kNotFound);
  EXPECT_EQ(store_->Status("Bad:Ref").error().code(), Code::kInvalidArgument);

  ASSERT_TRUE(store_->Remove(v1).ok());
  auto after = store_->Status(latest);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->repo_tags, std::vector<std::string>{latest});
  EXPECT_EQ(store_->Status(v1).error().code(), Code::kNotFound);
  EXPECT_GT(store_->content().List()->size(), 0U);

  // A container snapshot keeps its layers alive after the image is gone.
  ASSERT_TRUE(store_->snapshotter().Prepare("crtest-ctr", image->chain_id).ok());
  ASSERT_TRUE(store_->Remove(id).ok());
  EXPECT_EQ(store_->Status(id).error().code(), Code::kNotFound);
  EXPECT_TRUE(store_->List()->empty());
  EXPECT_TRUE(store_->content().List()->empty());
  EXPECT_EQ(store_->snapshotter().ListLayers()->size(), 2U);
  ASSERT_TRUE(store_->snapshotter().Remove("crtest-ctr").ok());
  ASSERT_TRUE(store_->GarbageCollect().ok());
  EXPECT_TRUE(store_->snapshotter().ListLayers()->empty());
  EXPECT_TRUE(store_->Remove(id).ok());  // unknown: OK
  EXPECT_TRUE(store_->Remove(latest).ok());
}

TEST_F(RegistryPullTest, ImagesSurviveRestart) {
  std::string ref = registry_ + "/test/busybox:latest";
  auto image = store_->Pull(ref, {});
  ASSERT_TRUE(image.ok());
  pinned_ = {ref};
  OpenStore();
  auto status = store_->Status(ref);
  ASSERT_TRUE(status.ok()) << status.error().ToString();
  EXPECT_EQ(status->id, image->id);
  EXPECT_EQ(status->config.env, image->config.env);
  EXPECT_EQ(status->size_bytes, image->size_bytes);
  EXPECT_TRUE(status->pinned);
  EXPECT_TRUE(store_->snapshotter().HasLayer(status->chain_id));
  auto info = store_->GetFsInfo();
  ASSERT_TRUE(info.ok());
  EXPECT_GT(info->image_fs.used_bytes, 1000000);
  EXPECT_GT(info->image_fs.inodes_used, 10);
}

TEST_F(RegistryPullTest, BasicAuth) {
  std::string ref = env_["AUTH_REGISTRY"] + "/test/busybox:latest";
  auto anonymous = store_->Pull(ref, {});
  ASSERT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.error().code(), Code::kUnauthenticated) << anonymous.error().ToString();
  AuthConfig wrong;
  wrong.username = env_["AUTH_USER"];
  wrong.password = "wrong-password";
  auto rejected = store_->Pull(ref, wrong);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().code(), Code::kUnauthenticated) << rejected.error().ToString();
  EXPECT_NE(rejected.error().message().find("rejected the credentials"), std::string::npos);
  EXPECT_EQ(rejected.error().message().find("wrong-password"), std::string::npos);
  AuthConfig right;
  right.auth = Base64Encode(env_["AUTH_USER"] + ":" + env_["AUTH_PASSWORD"]);
  auto image = store_->Pull(ref, right);
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  EXPECT_EQ(image->id, env_["BUSYBOX_CONFIG"]);
}

TEST_F(RegistryPullTest, CorruptedBlobRejectedWithDigestAndNothingKept) {
  auto image = store_->Pull(registry_ + "/test/corrupt:latest", {});
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.error().code(), Code::kDataLoss) << image.error().ToString();
  EXPECT_NE(image.error().message().find(env_["CORRUPT_LAYER"]), std::string::npos)
      << image.error().ToString();
  EXPECT_FALSE(store_->content().Has(env_["CORRUPT_LAYER"]));
  EXPECT_TRUE(store_->content().List()->empty());
  EXPECT_EQ(Count("ingest"), 0U);
  EXPECT_TRUE(store_->snapshotter().ListLayers()->empty());
  EXPECT_TRUE(store_->List()->empty());
}

TEST_F(RegistryPullTest, MirrorOnlyServesOtherRegistries) {
  RegistryConfig config;
  for (const char* r : {"registry.k8s.io", "gcr.io"}) {
    config.hosts[r].mirrors = {"http://" + registry_};
    config.hosts[r].mirror_only = true;
  }
  OpenStore(config);
  auto image = store_->Pull("registry.k8s.io/test/busybox:latest", {});
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  EXPECT_EQ(image->repo_tags, std::vector<std::string>{"registry.k8s.io/test/busybox:latest"});
  EXPECT_EQ(image->repo_digests[0], "registry.k8s.io/test/busybox@" + env_["BUSYBOX_MANIFEST"]);
}

TEST_F(RegistryPullTest, LiveMirrorIsUsedBeforeOrigin) {
  testing::FakeRegistry mirror(env_["STATE"] + "/images/busybox", "test/busybox", nullptr);
  RegistryConfig config;
  config.hosts[registry_].mirrors = {"http://" + mirror.host()};
  OpenStore(config);
  auto image = store_->Pull(registry_ + "/test/busybox:latest", {});
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  int blob_requests = 0;
  for (const auto& r : mirror.requests()) {
    blob_requests += r.path.find("/blobs/") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(blob_requests, 3);  // config and both layers came from the mirror
  EXPECT_EQ(image->repo_tags, std::vector<std::string>{registry_ + "/test/busybox:latest"});
}

TEST_F(RegistryPullTest, DeadMirrorFallsBackToOriginUnlessMirrorOnly) {
  // A port nobody listens on: bind, read the port, close.
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(s);
  std::string dead = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  RegistryConfig config;
  config.hosts[registry_].mirrors = {dead};
  OpenStore(config);
  auto image = store_->Pull(registry_ + "/test/busybox:latest", {});
  ASSERT_TRUE(image.ok()) << image.error().ToString();

  config.hosts["registry.k8s.io"].mirrors = {dead};
  config.hosts["registry.k8s.io"].mirror_only = true;
  OpenStore(config);
  auto refused = store_->Pull("registry.k8s.io/pause:3.9", {}, steady_clock::now() + seconds(20));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kUnavailable) << refused.error().ToString();
}

TEST_F(RegistryPullTest, ConcurrentPullsDownloadEachBlobOnce) {
  std::string ref = registry_ + "/test/busybox:latest";
  Result<Image> a = Error(Code::kUnknown, "not run");
  Result<Image> b = Error(Code::kUnknown, "not run");
  {
    std::jthread ta([&] { a = store_->Pull(ref, {}); });
    std::jthread tb([&] { b = store_->Pull(ref, {}); });
  }
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  EXPECT_EQ(a->id, b->id);
  EXPECT_EQ(store_->blob_requests(), 3);  // config + two layers
}

TEST_F(RegistryPullTest, ExpiredDeadlineIsDeadlineExceeded) {
  auto image = store_->Pull(registry_ + "/test/busybox:latest", {}, steady_clock::now());
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.error().code(), Code::kDeadlineExceeded) << image.error().ToString();
}

TEST_F(RegistryPullTest, BearerTokenFlowWithRealRegistry) {
  auto image = store_->Pull(env_["TOKEN_REGISTRY"] + "/test/busybox:latest", {});
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  EXPECT_EQ(image->id, env_["BUSYBOX_CONFIG"]);
}

TEST_F(RegistryPullTest, BearerTokenFlow) {
  std::string token_path = "/token";
  testing::FakeRegistry* self = nullptr;
  testing::FakeRegistry fake(
      env_["STATE"] + "/images/busybox", "test/busybox",
      [&](const testing::FakeRequest& req, testing::FakeResponse& out) {
        if (req.path.rfind(token_path, 0) == 0) {
          bool scoped =
              req.path.find("scope=repository%3Atest%2Fbusybox%3Apull") != std::string::npos &&
              req.path.find("service=fake") != std::string::npos;
          out.status = scoped ? 200 : 400;
          out.body = R"({"token":"tok-123","expires_in":300})";
          return true;
        }
        auto auth = req.headers.find("authorization");
        if (auth == req.headers.end() || auth->second != "Bearer tok-123") {
          out.status = 401;
          out.headers.push_back("WWW-Authenticate: Bearer realm=\"http://" + self->host() +
                                "/token\",service=\"fake\",scope=\"repository:test/busybox:pull\"");
          return true;
        }
        return false;
      });
  self = &fake;
  auto image = store_->Pull(fake.host() + "/test/busybox:latest", {});
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  EXPECT_EQ(image->id, env_["BUSYBOX_CONFIG"]);
  int token_requests = 0;
  for (const auto& r : fake.requests()) {
    token_requests += r.path.rfind(token_path, 0) == 0 ? 1 : 0;
  }
  EXPECT_GE(token_requests, 1);
}

TEST_F(RegistryPullTest, IdentityTokenUsesOAuthRefreshGrant) {
  testing::FakeRegistry* self = nullptr;
  testing::FakeRegistry fake(
      env_["STATE"] + "/images/busybox", "test/busybox",
      [&](const testing::FakeRequest& req, testing::FakeResponse& out) {
        if (req.path == "/oauth") {
          bool good = req.method == "POST" &&
                      req.body.find("grant_type=refresh_token") != std::string::npos &&
                      req.body.find("refresh_token=refresh-me") != std::string::npos;
          out.status = good ? 200 : 401;
          out.body = R"({"access_token":"oauth-tok"})";
          return true;
        }
        auto auth = req.headers.find("authorization");
        if (auth == req.headers.end() || auth->second != "Bearer oauth-tok") {
          out.status = 401;
          out.headers.push_back("WWW-Authenticate: Bearer realm=\"http://" + self->host() +
                                "/oauth\",service=\"fake\"");
          return true;
        }
        return false;
      });
  self = &fake;
  AuthConfig auth;
  auth.identity_token = "refresh-me";
  auto image = store_->Pull(fake.host() + "/test/busybox:latest", auth);
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  AuthConfig stale;
  stale.identity_token = "expired";
  OpenStore();
  auto refused = store_->Pull(fake.host() + "/test/busybox:latest", stale);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kUnauthenticated) << refused.error().ToString();
}

TEST_F(RegistryPullTest, DroppedConnectionMidBlobResumesWithRange) {
  std::string big_layer = env_["BUSYBOX_LAYERS"].substr(0, env_["BUSYBOX_LAYERS"].find(','));
  std::atomic<int> drops{0};
  testing::FakeRegistry fake(
      env_["STATE"] + "/images/busybox", "test/busybox",
      [&](const testing::FakeRequest& req, testing::FakeResponse& out) {
        if (req.path.find("/blobs/" + big_layer) != std::string::npos && drops == 0) {
          ++drops;
          auto blob =
              ReadFile(env_["STATE"] + "/images/busybox/blobs/sha256/" + big_layer.substr(7));
          out.status = 200;
          out.body = *blob;
          out.drop_after = static_cast<long>(blob->size() / 3);
          return true;
        }
        return false;
      });
  auto image = store_->Pull(fake.host() + "/test/busybox:latest", {});
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  EXPECT_EQ(drops, 1);
  bool resumed = false;
  for (const auto& r : fake.requests()) {
    auto range = r.headers.find("range");
    if (r.path.find(big_layer) != std::string::npos && range != r.headers.end() &&
        range->second != "bytes=0-") {
      resumed = true;
    }
  }
  EXPECT_TRUE(resumed) << "the second request did not ask for the rest of the blob";
}

TEST_F(RegistryPullTest, DeadlineKeepsPartialDownloadForResume) {
  std::string big_layer = env_["BUSYBOX_LAYERS"].substr(0, env_["BUSYBOX_LAYERS"].find(','));
  std::atomic<int> stalls{0};
  testing::FakeRegistry fake(
      env_["STATE"] + "/images/busybox", "test/busybox",
      [&](const testing::FakeRequest& req, testing::FakeResponse& out) {
        if (req.path.find("/blobs/" + big_layer) != std::string::npos && stalls == 0) {
          ++stalls;
          auto blob =
              ReadFile(env_["STATE"] + "/images/busybox/blobs/sha256/" + big_layer.substr(7));
          out.status = 200;
          out.body = *blob;
          out.drop_after = static_cast<long>(blob->size() / 2);
          out.stall_ms = 5000;  // a slow link: the pull's deadline passes meanwhile
          return true;
        }
        return false;
      });
  auto first =
      store_->Pull(fake.host() + "/test/busybox:latest", {}, steady_clock::now() + seconds(2));
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code(), Code::kDeadlineExceeded) << first.error().ToString();
  EXPECT_EQ(Count("ingest"), 1U);  // the partial layer stays for a resume
  EXPECT_TRUE(store_->List()->empty());

  auto second = store_->Pull(fake.host() + "/test/busybox:latest", {});
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  bool resumed = false;
  for (const auto& r : fake.requests()) {
    auto range = r.headers.find("range");
    resumed = resumed || (r.path.find(big_layer) != std::string::npos && range != r.headers.end());
  }
  EXPECT_TRUE(resumed);
  EXPECT_EQ(Count("ingest"), 0U);
}

TEST_F(RegistryPullTest, FollowsBlobRedirects) {
  std::string small_layer = env_["BUSYBOX_LAYERS"].substr(env_["BUSYBOX_LAYERS"].find(',') + 1);
  testing::FakeRegistry* self = nullptr;
  testing::FakeRegistry fake(
      env_["STATE"] + "/images/busybox", "test/busybox",
      [&](const testing::FakeRequest& req, testing::FakeResponse& out) {
        if (req.path == "/v2/test/busybox/blobs/" + small_layer) {
          out.status = 307;
          out.headers.push_back("Location: http://" + self->host() + "/storage/" + small_layer);
          return true;
        }
        if (req.path == "/storage/" + small_layer) {
          out.body =
              *ReadFile(env_["STATE"] + "/images/busybox/blobs/sha256/" + small_layer.substr(7));
          return true;
        }
        return false;
      });
  self = &fake;
  auto image = store_->Pull(fake.host() + "/test/busybox:latest", {});
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  bool redirected = false;
  for (const auto& r : fake.requests()) {
    redirected = redirected || r.path == "/storage/" + small_layer;
  }
  EXPECT_TRUE(redirected);
}

}  // namespace
}  // namespace cricket::storage
