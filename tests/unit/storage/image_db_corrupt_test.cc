// A damaged images.db does not stop cricketd: ImageDb::Open sets it aside (issue #14.2), and
// RebuildImageDb brings the complete images back from the content store and snapshots.

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/syscalls.h"
#include "storage/content_store.h"
#include "storage/digest.h"
#include "storage/image_db.h"
#include "storage/image_db_recovery.h"
#include "storage/snapshotter.h"
#include "tests/support/temp_dir.h"

namespace cricket::storage {
namespace {

using ::cricket::testing::TempDir;

Image SomeImage(int i) {
  Image image;
  image.id = Sha256Digest("config-" + std::to_string(i));
  image.repo_tags = {"docker.io/library/img" + std::to_string(i) + ":latest"};
  image.target_digest = Sha256Digest("manifest-" + std::to_string(i));
  image.manifest_digest = image.target_digest;
  image.blobs = {image.target_digest, image.id};
  image.config.env = std::vector<std::string>(20, std::string(100, 'e'));
  return image;
}

void FillDb(const std::string& path) {
  auto db = ImageDb::Open(path);
  ASSERT_TRUE(db.ok()) << db.error().ToString();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE((*db)->Put(SomeImage(i)).ok());
  }
}

void ExpectSetAsideAndUsable(const std::string& path, const std::string& problem_part) {
  auto db = ImageDb::Open(path);
  ASSERT_TRUE(db.ok()) << db.error().ToString();
  EXPECT_EQ((*db)->set_aside_path().rfind(path + ".corrupt-", 0), 0U) << (*db)->set_aside_path();
  EXPECT_TRUE(std::filesystem::exists((*db)->set_aside_path()));
  EXPECT_NE((*db)->set_aside_problem().find(problem_part), std::string::npos)
      << (*db)->set_aside_problem();
  EXPECT_TRUE((*db)->List()->empty());
  ASSERT_TRUE((*db)->Put(SomeImage(99)).ok());
  db->reset();
  auto again = ImageDb::Open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->set_aside_path(), "");
  EXPECT_TRUE((*again)->Get(SomeImage(99).id).ok());
}

TEST(ImageDbCorruptTest, RandomBytesAreSetAside) {
  TempDir dir;
  std::string junk;
  for (int i = 0; i < 12288; ++i) {
    junk.push_back(static_cast<char>((i * 2654435761U) >> 11));
  }
  ASSERT_TRUE(WriteFileAtomic(dir.Join("images.db"), junk, 0600).ok());
  ExpectSetAsideAndUsable(dir.Join("images.db"), "");
}

TEST(ImageDbCorruptTest, TruncatedFileIsSetAside) {
  TempDir dir;
  const std::string path = dir.Join("images.db");
  FillDb(path);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  ASSERT_EQ(::truncate(path.c_str(), st.st_size / 2), 0);
  ExpectSetAsideAndUsable(path, "");
}

TEST(ImageDbCorruptTest, EmptyFileIsSetAside) {
  TempDir dir;
  const std::string path = dir.Join("images.db");
  FillDb(path);
  ASSERT_EQ(::truncate(path.c_str(), 0), 0);
  ExpectSetAsideAndUsable(path, "empty");
}

TEST(ImageDbCorruptTest, WrongSchemaIsSetAside) {
  TempDir dir;
  const std::string path = dir.Join("images.db");
  {
    auto db = Database::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("CREATE TABLE images (id TEXT PRIMARY KEY, digest TEXT)").ok());
  }
  ExpectSetAsideAndUsable(path, "unknown schema");
}

// A pulled image as ImageStore leaves it on disk: an index naming the manifest, the manifest,
// its config and layers in the content store, each layer unpacked.
class ImageDbRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    content_ = ContentStore::Open(dir_.path()).value();
    snapshots_ = Snapshotter::Open(dir_.Join("snapshots"), sys_, {}).value();
  }

  // Returns the config digest (the image id) of a one-layer image.
  std::string AddImage(const std::string& seed, bool unpacked, bool with_index) {
    std::string layer = "layer bytes " + seed;
    std::string diff_id = Sha256Digest("diff " + seed);
    std::string config = R"({"architecture":"amd64","os":"linux","config":{"Env":["A=)" + seed +
                         R"("],"User":"1000"},"rootfs":{"type":"layers","diff_ids":[")" + diff_id +
                         R"("]}})";
    std::string manifest =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
        R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
        Sha256Digest(config) + R"(","size":)" + std::to_string(config.size()) +
        R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
        Sha256Digest(layer) + R"(","size":)" + std::to_string(layer.size()) + "}]}";
    for (const std::string* blob : {&layer, &config, &manifest}) {
      EXPECT_TRUE(content_->WriteBlob(Sha256Digest(*blob), *blob).ok());
    }
    if (with_index) {
      std::string index =
          R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
          R"("manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
          Sha256Digest(manifest) + R"(","size":)" + std::to_string(manifest.size()) +
          R"(,"platform":{"architecture":"amd64","os":"linux"}}]})";
      EXPECT_TRUE(content_->WriteBlob(Sha256Digest(index), index).ok());
      index_of_[Sha256Digest(config)] = Sha256Digest(index);
    }
    manifest_of_[Sha256Digest(config)] = Sha256Digest(manifest);
    if (unpacked) {
      // Snapshotter::HasLayer looks for layers/<chain hex>/fs; one layer: chain id = diff id.
      auto hex = Sha256Hex(diff_id);
      EXPECT_TRUE(hex.ok());
      EXPECT_TRUE(MakeDirs(dir_.Join("snapshots/layers/" + *hex + "/fs"), 0700).ok());
    }
    return Sha256Digest(config);
  }

  TempDir dir_{"imgrec"};
  LinuxSyscalls sys_;
  std::unique_ptr<ContentStore> content_;
  std::unique_ptr<Snapshotter> snapshots_;
  std::map<std::string, std::string> index_of_;
  std::map<std::string, std::string> manifest_of_;
};

TEST_F(ImageDbRecoveryTest, CompleteImagesComeBackByIdWithoutTags) {
  std::string with_index = AddImage("one", /*unpacked=*/true, /*with_index=*/true);
  std::string bare = AddImage("two", /*unpacked=*/true, /*with_index=*/false);
  std::string not_unpacked = AddImage("three", /*unpacked=*/false, /*with_index=*/false);
  auto db = ImageDb::Open(dir_.Join("images.db")).value();

  auto rebuilt = RebuildImageDb(*content_, *snapshots_, *db);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().ToString();
  EXPECT_EQ(rebuilt->recovered, 2);
  EXPECT_EQ(rebuilt->incomplete, 1);

  auto one = db->Get(with_index);
  ASSERT_TRUE(one.ok()) << one.error().ToString();
  EXPECT_EQ(one->target_digest, index_of_[with_index]);
  EXPECT_EQ(one->manifest_digest, manifest_of_[with_index]);
  EXPECT_TRUE(one->repo_tags.empty());
  EXPECT_TRUE(one->repo_digests.empty());
  EXPECT_EQ(one->config.user, "1000");
  EXPECT_EQ(one->config.env, std::vector<std::string>{"A=one"});
  EXPECT_EQ(one->chain_id, one->config.diff_ids.at(0));
  EXPECT_EQ(one->blobs.size(), 4U);  // index, manifest, config, layer

  auto two = db->Get(bare);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->target_digest, manifest_of_[bare]);
  EXPECT_FALSE(db->Get(not_unpacked).ok());
}

}  // namespace
}  // namespace cricket::storage
