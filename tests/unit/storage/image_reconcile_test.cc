// ImageStore's start-up reconcile and the pieces it uses (issue #14): what a crash in a pull or
// a removal leaves on disk is gone after Open, what an image record references stays. No
// registry: the state is staged directly through ContentStore, Snapshotter and ImageDb.

#include <fcntl.h>
#include <sys/file.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/sqlite.h"
#include "common/syscalls.h"
#include "storage/content_store.h"
#include "storage/digest.h"
#include "storage/image_db.h"
#include "storage/image_store.h"
#include "storage/snapshotter.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/layer_fixture.h"

namespace cricket::storage {
namespace {

namespace fs = std::filesystem;
using testing::BuildLayer;
using testing::Compression;
using testing::File;

size_t CountEntries(const std::string& dir) {
  auto names = ListDirectory(dir);
  return names.ok() ? names->size() : 999;
}

class ImageReconcileTest : public ::testing::Test {
 protected:
  UnpackOptions Unpack() {
    UnpackOptions unpack;
    unpack.privileged = false;
    unpack.overlay_xattr_prefix = "user.overlay.";
    return unpack;
  }

  // Commits the gzipped `tar` as a blob and unpacks it as a base layer. Returns {blob digest,
  // diff id (= chain id)}.
  std::pair<std::string, std::string> StageLayer(const std::string& tar) {
    auto content = ContentStore::Open(root());
    EXPECT_TRUE(content.ok());
    std::string blob = testing::Compress(tar, Compression::kGzip);
    std::string digest = Sha256Digest(blob);
    std::string diff_id = Sha256Digest(tar);
    EXPECT_TRUE((*content)->WriteBlob(digest, blob).ok());
    auto snap = Snapshotter::Open(root() + "/snapshots", sys_, Unpack());
    EXPECT_TRUE(snap.ok());
    auto fd = (*content)->OpenBlob(digest);
    EXPECT_TRUE(fd.ok());
    auto applied = (*snap)->ApplyLayer(diff_id, "", diff_id, fd->get());
    EXPECT_TRUE(applied.ok()) << applied.error().ToString();
    return {digest, diff_id};
  }

  Result<std::unique_ptr<ImageStore>> OpenStore() {
    ImageStoreOptions options;
    options.root = root();
    options.unpack = Unpack();
    return ImageStore::Open(options, sys_);
  }

  std::string root() const { return dir_.Join("root"); }

  cricket::testing::TempDir dir_{"imgrec"};
  LinuxSyscalls sys_;
};

TEST_F(ImageReconcileTest, OpenRemovesWhatNoImageReferences) {
  auto [kept, kept_chain] = StageLayer(BuildLayer({File("a", "kept")}, Compression::kNone));
  auto [dropped, dropped_chain] =
      StageLayer(BuildLayer({File("b", "dropped")}, Compression::kNone));
  Image image;
  image.id = Sha256Digest("config");  // only the references matter here
  image.repo_tags = {"example.com/kept:1"};
  image.blobs = {kept};
  image.config.diff_ids = {kept_chain};
  {
    auto db = ImageDb::Open(root() + "/images.db");
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Put(image).ok());
  }
  // A download and a WriteBlob temporary a crash interrupted, and a half-removed layer.
  ASSERT_TRUE(
      WriteFileAtomic(root() + "/ingest/" + std::string(64, 'a') + ".partial", "xx", 0600).ok());
  ASSERT_TRUE(
      WriteFileAtomic(root() + "/ingest/" + std::string(64, 'b') + ".Xy12zz", "y", 0600).ok());
  ASSERT_TRUE(
      MakeDirs(root() + "/snapshots/layers/.tmp-rm-" + std::string(64, 'c') + "/fs", 0755).ok());

  auto store = OpenStore();
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  EXPECT_TRUE((*store)->content().Has(kept));
  EXPECT_TRUE((*store)->snapshotter().HasLayer(kept_chain));
  EXPECT_FALSE((*store)->content().Has(dropped));
  EXPECT_FALSE((*store)->snapshotter().HasLayer(dropped_chain));
  EXPECT_EQ(CountEntries(root() + "/ingest"), 0U);
  EXPECT_EQ(CountEntries(root() + "/snapshots/layers"), 1U);
  auto status = (*store)->Status("example.com/kept:1");
  ASSERT_TRUE(status.ok()) << status.error().ToString();
}

TEST_F(ImageReconcileTest, ContainerSnapshotsKeepTheirLayers) {
  auto [blob, chain] = StageLayer(BuildLayer({File("a", "1")}, Compression::kNone));
  {
    auto snap = Snapshotter::Open(root() + "/snapshots", sys_, Unpack());
    ASSERT_TRUE(snap.ok());
    ASSERT_TRUE((*snap)->Prepare("ctr1", chain).ok());
  }
  auto store = OpenStore();
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  EXPECT_TRUE((*store)->snapshotter().HasLayer(chain));  // its image is gone, its container not
  EXPECT_FALSE((*store)->content().Has(chain));          // the blob is not needed to run it
}

TEST_F(ImageReconcileTest, UnreadableRecordsSweepNothing) {
  auto [blob, chain] = StageLayer(BuildLayer({File("a", "1")}, Compression::kNone));
  {
    auto db = ImageDb::Open(root() + "/images.db");
    ASSERT_TRUE(db.ok());
    Image image;
    image.id = Sha256Digest("x");
    ASSERT_TRUE((*db)->Put(image).ok());
  }
  // A record whose blob list does not parse: GC cannot know what it needs, so it keeps all.
  {
    auto db = Database::Open(root() + "/images.db");
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("UPDATE images SET blobs = 'not json'").ok());
  }
  auto store = OpenStore();
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  EXPECT_TRUE((*store)->content().Has(blob));
  EXPECT_TRUE((*store)->snapshotter().HasLayer(chain));
}

TEST(ContentStoreDiscardTest, DiscardPartialSparesAWriterAndDropsTheRest) {
  cricket::testing::TempDir dir("discard");
  auto store = ContentStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  std::string digest = Sha256Digest("hello");
  {
    auto ingest = (*store)->StartIngest(digest, 5);
    ASSERT_TRUE(ingest.ok());
    ASSERT_TRUE(ingest->Write("he").ok());
    auto busy = (*store)->DiscardPartial(digest);  // a writer holds it
    ASSERT_TRUE(busy.ok());
    EXPECT_FALSE(*busy);
  }  // the writer goes; its partial stays for a resume
  EXPECT_EQ(CountEntries(dir.Join("ingest")), 1U);
  auto dropped = (*store)->DiscardPartial(digest);
  ASSERT_TRUE(dropped.ok());
  EXPECT_TRUE(*dropped);
  EXPECT_EQ(CountEntries(dir.Join("ingest")), 0U);
  auto none = (*store)->DiscardPartial(digest);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
}

TEST(ImageDbDeleteTagTest, ImageGoesWithItsLastTagInOneStep) {
  cricket::testing::TempDir dir("deltag");
  auto db = ImageDb::Open(dir.Join("images.db"));
  ASSERT_TRUE(db.ok());
  Image image;
  image.id = Sha256Digest("img");
  image.repo_tags = {"r/a:1", "r/a:2"};
  image.repo_digests = {"r/a@" + Sha256Digest("m")};
  ASSERT_TRUE((*db)->Put(image).ok());

  auto first = (*db)->DeleteTag("r/a:1");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->value_or(""), image.id);
  EXPECT_TRUE((*db)->Get(image.id).ok());  // another tag is left
  auto last = (*db)->DeleteTag("r/a:2");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->value_or(""), image.id);
  EXPECT_EQ((*db)->Get(image.id).error().code(), Code::kNotFound);  // a digest alone keeps none
  EXPECT_FALSE((*db)->FindByName(image.repo_digests[0])->has_value());
  auto unknown = (*db)->DeleteTag("r/a:3");
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
}

}  // namespace
}  // namespace cricket::storage
