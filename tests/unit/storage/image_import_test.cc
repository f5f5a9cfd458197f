// ImageStore::Import and ExportImage without root (layers unpacked unprivileged): OCI layouts
// and docker-save tarballs imported and tagged, tampered or incomplete archives refused with
// nothing left behind, an export read back by import, and the start-up directory import.

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/syscalls.h"
#include "storage/digest.h"
#include "storage/image_export.h"
#include "storage/image_import_dir.h"
#include "storage/image_store.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/image_archive_fixture.h"

namespace cricket::storage {
namespace {

using testing::BuildLayer;
using testing::Compression;
using testing::File;
using testing::TarEntry;

ByteSource StringSource(std::shared_ptr<std::string> data) {
  auto offset = std::make_shared<size_t>(0);
  return [data, offset]() -> Result<std::string_view> {
    std::string_view out = std::string_view(*data).substr(*offset, 4096);
    *offset += out.size();
    return out;
  };
}

size_t Count(const std::string& dir) {
  auto names = ListDirectory(dir);
  return names.ok() ? names->size() : 0;
}

class ImageImportTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<ImageStore>> Open(const std::string& root) {
    ImageStoreOptions options;
    options.root = root;
    options.unpack.privileged = false;
    options.unpack.overlay_xattr_prefix = "user.overlay.";
    options.platform = {"linux", "amd64", ""};
    return ImageStore::Open(options, sys_);
  }

  void SetUp() override {
    auto store = Open(dir_.Join("root"));
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(store).value();
  }

  Result<std::vector<Image>> Import(const std::vector<TarEntry>& entries) {
    return store_->Import(
        StringSource(std::make_shared<std::string>(BuildLayer(entries, Compression::kNone))));
  }

  // Nothing of a failed import: no blob, no layer, no staging, no record.
  void ExpectNothingLeft() {
    EXPECT_EQ(Count(dir_.Join("root/blobs/sha256")), 0u);
    EXPECT_EQ(Count(dir_.Join("root/snapshots/layers")), 0u);
    EXPECT_EQ(Count(dir_.Join("root/ingest")), 0u);
    EXPECT_EQ(Count(dir_.Join("root/import-tmp")), 0u);
    EXPECT_TRUE(store_->List()->empty());
  }

  testing::TestImage Image2Layers(Compression compression) {
    return testing::MakeTestImage(
        {{File("bin/app", "#!/bin/sh\n", 0755)}, {File("etc/motd", "hello")}}, compression);
  }

  cricket::testing::TempDir dir_{"imgimp"};
  LinuxSyscalls sys_;
  std::unique_ptr<ImageStore> store_;
};

TEST_F(ImageImportTest, ImportsAnOciLayoutUnderItsName) {
  testing::TestImage image = Image2Layers(Compression::kGzip);
  auto imported = Import(testing::OciLayoutEntries(image, "example.com/team/app:v1"));
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  ASSERT_EQ(imported->size(), 1u);
  auto status = store_->Status("example.com/team/app:v1");
  ASSERT_TRUE(status.ok()) << status.error().ToString();
  EXPECT_EQ(status->id, Sha256Digest(image.config));
  EXPECT_EQ(status->config.cmd, std::vector<std::string>{"/bin/app"});
  EXPECT_EQ(status->repo_digests,
            std::vector<std::string>{"example.com/team/app@" + Sha256Digest(image.manifest)});
  auto lower = store_->snapshotter().LowerDirs(status->chain_id);
  ASSERT_TRUE(lower.ok()) << lower.error().ToString();
  EXPECT_EQ(*ReadFile(lower->front() + "/etc/motd"), "hello");
  EXPECT_EQ(Count(dir_.Join("root/import-tmp")), 0u);
}

TEST_F(ImageImportTest, ImportsADockerSaveTarball) {
  testing::TestImage image = Image2Layers(Compression::kNone);
  auto imported = Import(testing::DockerSaveEntries(image, "busybox:1.36"));
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  auto status = store_->Status("docker.io/library/busybox:1.36");
  ASSERT_TRUE(status.ok()) << status.error().ToString();
  EXPECT_EQ(status->id, Sha256Digest(image.config));
  EXPECT_TRUE(status->repo_digests.empty());  // the manifest is Cricket's, not a registry's
  EXPECT_TRUE(store_->content().Has(status->manifest_digest));
  EXPECT_TRUE(store_->snapshotter().LowerDirs(status->chain_id).ok());
}

// Docker 25+ `docker save`: an OCI layout plus manifest.json; an unnamed index entry takes
// its RepoTags.
TEST_F(ImageImportTest, ADockerSaveWithBothLayoutsTakesItsRepoTags) {
  testing::TestImage image = Image2Layers(Compression::kNone);
  std::vector<TarEntry> entries = testing::OciLayoutEntries(image, "");
  nlohmann::json manifest =
      nlohmann::json::array({{{"Config", testing::BlobPath(Sha256Digest(image.config))},
                              {"RepoTags", {"app:v2"}},
                              {"Layers",
                               {testing::BlobPath(Sha256Digest(image.layers[0])),
                                testing::BlobPath(Sha256Digest(image.layers[1]))}}}});
  entries.push_back(File("manifest.json", manifest.dump()));
  auto imported = Import(entries);
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  auto status = store_->Status("app:v2");
  ASSERT_TRUE(status.ok()) << status.error().ToString();
  EXPECT_EQ(status->manifest_digest, Sha256Digest(image.manifest));  // read as OCI
}

TEST_F(ImageImportTest, ATamperedBlobIsRefusedAndNothingIsLeft) {
  testing::TestImage image = Image2Layers(Compression::kGzip);
  std::vector<TarEntry> entries = testing::OciLayoutEntries(image, "example.com/app:v1");
  const std::string layer = testing::BlobPath(Sha256Digest(image.layers[1]));
  for (TarEntry& e : entries) {
    if (e.path == layer) {
      e.data[e.data.size() / 2] ^= 0x01;
    }
  }
  auto imported = Import(entries);
  ASSERT_FALSE(imported.ok());
  EXPECT_EQ(imported.error().code(), Code::kDataLoss);
  EXPECT_NE(imported.error().message().find(layer), std::string::npos)
      << imported.error().message();
  ExpectNothingLeft();
}

TEST_F(ImageImportTest, ADockerLayerNotMatchingItsDiffIdIsRefused) {
  testing::TestImage image = Image2Layers(Compression::kNone);
  std::vector<TarEntry> entries = testing::DockerSaveEntries(image, "app:v1");
  for (TarEntry& e : entries) {
    if (e.path == "1/layer.tar") {
      e.data = BuildLayer({File("etc/motd", "evil")}, Compression::kNone);
    }
  }
  auto imported = Import(entries);
  ASSERT_FALSE(imported.ok());
  EXPECT_EQ(imported.error().code(), Code::kDataLoss);
  EXPECT_NE(imported.error().message().find("1/layer.tar"), std::string::npos)
      << imported.error().message();
  ExpectNothingLeft();
}

TEST_F(ImageImportTest, AMissingBlobIsNamed) {
  testing::TestImage image = Image2Layers(Compression::kGzip);
  std::vector<TarEntry> entries = testing::OciLayoutEntries(image, "example.com/app:v1");
  const std::string layer = testing::BlobPath(Sha256Digest(image.layers[0]));
  std::erase_if(entries, [&](const TarEntry& e) { return e.path == layer; });
  auto imported = Import(entries);
  ASSERT_FALSE(imported.ok());
  EXPECT_EQ(imported.error().code(), Code::kInvalidArgument);
  EXPECT_NE(imported.error().message().find(Sha256Digest(image.layers[0])), std::string::npos)
      << imported.error().message();
  ExpectNothingLeft();
}

TEST_F(ImageImportTest, AnArchiveOfNeitherLayoutIsRefused) {
  auto imported = Import({File("hello.txt", "hi")});
  ASSERT_FALSE(imported.ok());
  EXPECT_EQ(imported.error().code(), Code::kInvalidArgument);
  EXPECT_NE(imported.error().message().find("manifest.json"), std::string::npos);
  ExpectNothingLeft();
}

TEST_F(ImageImportTest, AnExportIsAValidLayoutThatImportReadsBack) {
  testing::TestImage image = Image2Layers(Compression::kGzip);
  // Another image in the store: it must not travel with the export.
  testing::TestImage other_image =
      testing::MakeTestImage({{File("other", "not exported")}}, Compression::kNone);
  ASSERT_TRUE(Import(testing::DockerSaveEntries(other_image, "other:1")).ok());
  ASSERT_TRUE(Import(testing::OciLayoutEntries(image, "example.com/app:v1")).ok());
  auto out = std::make_shared<std::string>();
  auto exported = ExportImage(*store_, "example.com/app:v1", [&](std::string_view data) {
    out->append(data);
    return Ok();
  });
  ASSERT_TRUE(exported.ok()) << exported.error().ToString();

  auto other = Open(dir_.Join("other"));
  ASSERT_TRUE(other.ok());
  auto imported = (*other)->Import(StringSource(out));
  ASSERT_TRUE(imported.ok()) << imported.error().ToString();
  auto status = (*other)->Status("example.com/app:v1");
  ASSERT_TRUE(status.ok()) << status.error().ToString();
  EXPECT_EQ(status->id, Sha256Digest(image.config));
  EXPECT_EQ(status->manifest_digest, Sha256Digest(image.manifest));
  // Only this image's blobs travelled: manifest, config, two layers.
  EXPECT_EQ(Count(dir_.Join("other/blobs/sha256")), 4u);
  EXPECT_EQ(ExportImage(*store_, "example.com/nope:v1", [](std::string_view) { return Ok(); })
                .error()
                .code(),
            Code::kNotFound);
}

TEST_F(ImageImportTest, TheStartUpDirectoryImportsGoodArchivesOnceAndSkipsBadOnes) {
  const std::string dir = dir_.Join("root/images-import");
  ASSERT_TRUE(MakeDirs(dir, 0700).ok());
  testing::TestImage image = Image2Layers(Compression::kNone);
  std::ofstream(dir + "/app.tar") << BuildLayer(testing::DockerSaveEntries(image, "app:v1"),
                                                Compression::kGzip);
  std::ofstream(dir + "/broken.tar") << "not a tar at all";

  DirImportSummary first = ImportDirectory(*store_, dir_.Join("root"), /*pin=*/true);
  EXPECT_EQ(first.imported, 1);
  EXPECT_EQ(first.failed, 1);
  auto status = store_->Status("app:v1");
  ASSERT_TRUE(status.ok()) << status.error().ToString();
  EXPECT_TRUE(status->pinned);

  // A restart: the same archive is not read again, and its image is pinned again.
  auto reopened = Open(dir_.Join("root"));
  ASSERT_TRUE(reopened.ok());
  store_ = std::move(reopened).value();
  DirImportSummary second = ImportDirectory(*store_, dir_.Join("root"), /*pin=*/true);
  EXPECT_EQ(second.unchanged, 1);
  EXPECT_EQ(second.imported, 0);
  EXPECT_TRUE(store_->Status("app:v1")->pinned);
  // Without pin_imported, nothing is pinned.
  store_ = std::move(Open(dir_.Join("root"))).value();
  (void)ImportDirectory(*store_, dir_.Join("root"), /*pin=*/false);
  EXPECT_FALSE(store_->Status("app:v1")->pinned);
}

}  // namespace
}  // namespace cricket::storage
