#include "storage/image_db.h"

#include <gtest/gtest.h>

#include "storage/digest.h"
#include "tests/support/temp_dir.h"

namespace cricket::storage {
namespace {

Image MakeImage(const std::string& seed, std::vector<std::string> tags) {
  Image image;
  image.id = Sha256Digest("config-" + seed);
  image.repo_tags = std::move(tags);
  image.repo_digests = {"docker.io/library/" + seed + "@" + Sha256Digest("manifest-" + seed)};
  image.size_bytes = 1234;
  image.target_digest = Sha256Digest("manifest-" + seed);
  image.manifest_digest = image.target_digest;
  image.chain_id = Sha256Digest("chain-" + seed);
  image.blobs = {image.target_digest, image.id};
  image.config.user = "1000:1000";
  image.config.env = {"A=1", "B=\xff invalid utf8"};
  image.config.entrypoint = {"/bin/sh"};
  image.config.cmd = {"-c", "true"};
  image.config.working_dir = "/w";
  image.config.stop_signal = "SIGTERM";
  image.config.volumes = {"/v"};
  image.config.labels = {{"k", "v"}};
  image.config.diff_ids = {Sha256Digest("layer-" + seed)};
  image.pulled_at_unix = 42;
  return image;
}

class ImageDbTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    db_.reset();
    auto db = ImageDb::Open(dir_.Join("images.db"));
    ASSERT_TRUE(db.ok()) << db.error().ToString();
    db_ = std::move(*db);
  }
  cricket::testing::TempDir dir_{"imagedb"};
  std::unique_ptr<ImageDb> db_;
};

TEST_F(ImageDbTest, PutGetSurvivesReopen) {
  Image image = MakeImage("a", {"docker.io/library/a:latest", "docker.io/library/a:1"});
  ASSERT_TRUE(db_->Put(image).ok());
  Reopen();
  auto got = db_->Get(image.id);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(got->repo_tags, image.repo_tags);
  EXPECT_EQ(got->repo_digests, image.repo_digests);
  EXPECT_EQ(got->size_bytes, 1234);
  EXPECT_EQ(got->chain_id, image.chain_id);
  EXPECT_EQ(got->blobs, image.blobs);
  EXPECT_EQ(got->config.user, "1000:1000");
  EXPECT_EQ(got->config.env.size(), 2U);
  EXPECT_EQ(got->config.cmd, image.config.cmd);
  EXPECT_EQ(got->config.labels, image.config.labels);
  EXPECT_EQ(got->config.diff_ids, image.config.diff_ids);
  EXPECT_EQ(got->pulled_at_unix, 42);
  EXPECT_EQ(db_->Get(Sha256Digest("nope")).error().code(), Code::kNotFound);
}

TEST_F(ImageDbTest, TagMovesToNewImage) {
  Image a = MakeImage("a", {"docker.io/library/x:latest"});
  Image b = MakeImage("b", {"docker.io/library/x:latest"});
  ASSERT_TRUE(db_->Put(a).ok());
  ASSERT_TRUE(db_->Put(b).ok());
  EXPECT_EQ(*db_->FindByName("docker.io/library/x:latest"), b.id);
  EXPECT_TRUE(db_->Get(a.id)->repo_tags.empty());
  EXPECT_EQ(db_->List()->size(), 2U);
}

TEST_F(ImageDbTest, DeleteNameAndImage) {
  Image a = MakeImage("a", {"t:1", "t:2"});
  ASSERT_TRUE(db_->Put(a).ok());
  EXPECT_EQ(*db_->DeleteName("t:1"), a.id);
  EXPECT_FALSE(db_->DeleteName("t:1")->has_value());
  EXPECT_EQ(db_->Get(a.id)->repo_tags, std::vector<std::string>{"t:2"});
  ASSERT_TRUE(db_->DeleteImage(a.id).ok());
  EXPECT_FALSE(db_->FindByName("t:2")->has_value());  // names go with the image
  EXPECT_TRUE(db_->DeleteImage(a.id).ok());
  EXPECT_TRUE(db_->List()->empty());
}

TEST_F(ImageDbTest, FindByIdPrefix) {
  Image a = MakeImage("a", {});
  ASSERT_TRUE(db_->Put(a).ok());
  EXPECT_EQ(*db_->FindByIdPrefix(a.id.substr(7, 12)), std::vector<std::string>{a.id});
  EXPECT_TRUE(db_->FindByIdPrefix("zzzz")->empty());
}

TEST(ImageUserTest, UidOrUsername) {
  EXPECT_EQ(ParseImageUser("1000").uid, 1000);
  EXPECT_EQ(ParseImageUser("1000:1000").uid, 1000);
  EXPECT_EQ(ParseImageUser("0").uid, 0);
  EXPECT_EQ(ParseImageUser("app").username, "app");
  EXPECT_FALSE(ParseImageUser("app:grp").uid.has_value());
  EXPECT_EQ(ParseImageUser("app:grp").username, "app");
  EXPECT_FALSE(ParseImageUser("").uid.has_value());
  EXPECT_EQ(ParseImageUser("").username, "");
}

}  // namespace
}  // namespace cricket::storage
