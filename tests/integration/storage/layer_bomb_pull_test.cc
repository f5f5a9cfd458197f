// A decompression bomb through the whole pull path (#13 item 6): FakeRegistry serves an image
// whose second layer is 64 MiB of zeros in ~64 KiB of gzip; with a 1 MiB cap the pull fails
// RESOURCE_EXHAUSTED naming the layer and the limit, and leaves nothing behind.

#include <filesystem>

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/syscalls.h"
#include "storage/digest.h"
#include "storage/image_store.h"
#include "tests/integration/storage/fake_registry.h"
#include "tests/integration/storage/test_store_options.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/layer_fixture.h"

namespace cricket::storage {
namespace {

namespace fs = std::filesystem;
using testing::BuildLayer;
using testing::Compression;
using testing::File;

constexpr int64_t kMiB = 1 << 20;

// An OCI image layout of `layers` (gzip blobs, with their uncompressed tars).
class Layout {
 public:
  explicit Layout(std::string dir) : dir_(std::move(dir)) {
    EXPECT_TRUE(MakeDirs(dir_ + "/blobs/sha256", 0755).ok());
  }

  std::string Blob(const std::string& data) {
    std::string digest = Sha256Digest(data);
    EXPECT_TRUE(WriteFileAtomic(dir_ + "/blobs/sha256/" + digest.substr(7), data, 0644).ok());
    return digest;
  }

  static std::string Desc(const std::string& media_type, const std::string& digest, size_t size) {
    return R"({"mediaType":")" + media_type + R"(","digest":")" + digest + R"(","size":)" +
           std::to_string(size) + "}";
  }

  // Writes the image; returns the blob digests of its layers.
  std::vector<std::string> Image(const std::vector<std::pair<std::string, std::string>>& layers) {
    std::string diff_ids;
    std::string layer_descs;
    std::vector<std::string> digests;
    for (const auto& [gz, plain] : layers) {
      diff_ids += (diff_ids.empty() ? "\"" : ",\"") + Sha256Digest(plain) + "\"";
      digests.push_back(Blob(gz));
      layer_descs += (layer_descs.empty() ? "" : ",") +
                     Desc("application/vnd.oci.image.layer.v1.tar+gzip", digests.back(), gz.size());
    }
    std::string config = R"({"architecture":"amd64","os":"linux","config":{},)"
                         R"("rootfs":{"type":"layers","diff_ids":[)" +
                         diff_ids + "]}}";
    std::string manifest =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
        Desc("application/vnd.oci.image.config.v1+json", Blob(config), config.size()) +
        R"(,"layers":[)" + layer_descs + "]}";
    std::string index =
        R"({"schemaVersion":2,"manifests":[)" +
        Desc("application/vnd.oci.image.manifest.v1+json", Blob(manifest), manifest.size()) + "]}";
    EXPECT_TRUE(WriteFileAtomic(dir_ + "/index.json", index, 0644).ok());
    return digests;
  }

 private:
  std::string dir_;
};

class LayerBombPullTest : public ::testing::Test {
 protected:
  void OpenStore(int64_t max_bytes, int64_t max_entries) {
    ImageStoreOptions options = TestStoreOptions(dir_.Join("root"));
    options.unpack.max_uncompressed_bytes = max_bytes;
    options.unpack.max_entries = max_entries;
    auto store = ImageStore::Open(options, sys_);
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(*store);
  }

  // Everything under root/<sub> (recursively), for "nothing left behind".
  std::vector<std::string> Tree(const std::string& sub) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir_.Join("root/" + sub))) {
      out.push_back(e.path().string());
    }
    return out;
  }

  void ExpectNothingLeft() {
    EXPECT_TRUE(store_->List()->empty());
    EXPECT_TRUE(store_->snapshotter().ListLayers()->empty());
    EXPECT_EQ(Tree("snapshots/layers"), std::vector<std::string>{});  // no layer, no temporary
    EXPECT_EQ(Tree("snapshots/containers"), std::vector<std::string>{});
    // Its blobs go like those of any failed pull that cannot be resumed.
    EXPECT_TRUE(store_->content().List()->empty());
    EXPECT_EQ(Tree("ingest"), std::vector<std::string>{});
  }

  cricket::testing::TempDir dir_{"bomb"};
  LinuxSyscalls sys_;
  std::unique_ptr<ImageStore> store_;
};

std::pair<std::string, std::string> Layer(const std::vector<testing::TarEntry>& entries) {
  return {BuildLayer(entries, Compression::kGzip), BuildLayer(entries, Compression::kNone)};
}

TEST_F(LayerBombPullTest, BombLayerIsResourceExhaustedAndNothingIsKept) {
  Layout layout(dir_.Join("layout"));
  std::vector<std::string> layers =
      layout.Image({Layer({File("etc/base", "base layer")}),
                    Layer({File("zeros", std::string(64 * kMiB, '\0'))})});
  testing::FakeRegistry fake(dir_.Join("layout"), "test/bomb", nullptr);
  OpenStore(kMiB, 1000000);

  auto image = store_->Pull(fake.host() + "/test/bomb:latest", {});
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.error().code(), Code::kResourceExhausted) << image.error().ToString();
  EXPECT_NE(image.error().message().find(layers[1]), std::string::npos) << image.error().message();
  EXPECT_NE(image.error().message().find("1048576 uncompressed bytes"), std::string::npos)
      << image.error().message();
  ExpectNothingLeft();
}

TEST_F(LayerBombPullTest, EntryBombIsResourceExhaustedAndUnderTheCapsItPulls) {
  std::vector<testing::TarEntry> empties;
  for (int i = 0; i < 2000; ++i) {
    empties.push_back(File("e/" + std::to_string(i), ""));
  }
  Layout layout(dir_.Join("layout"));
  std::vector<std::string> layers = layout.Image({Layer(empties)});
  testing::FakeRegistry fake(dir_.Join("layout"), "test/bomb", nullptr);
  OpenStore(64 * kMiB, 1000);
  auto image = store_->Pull(fake.host() + "/test/bomb:latest", {});
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.error().code(), Code::kResourceExhausted) << image.error().ToString();
  EXPECT_NE(image.error().message().find("limit of 1000 entries"), std::string::npos)
      << image.error().message();
  ExpectNothingLeft();

  // The same image under generous caps is an ordinary pull.
  OpenStore(64 * kMiB, 2001);
  image = store_->Pull(fake.host() + "/test/bomb:latest", {});
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  EXPECT_EQ(store_->List()->size(), 1U);
}

}  // namespace
}  // namespace cricket::storage
