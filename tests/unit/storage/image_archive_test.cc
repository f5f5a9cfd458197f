// StageArchive (storage/image_archive.h): an archive's files staged with their digests; hostile
// names, links leaving the archive and truncated streams refused with errors naming them.

#include "storage/image_archive.h"

#include <gtest/gtest.h>

#include "storage/digest.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/layer_fixture.h"

namespace cricket::storage {
namespace {

using testing::BuildLayer;
using testing::Compression;
using testing::File;

// A source handing out `data` in chunks of `chunk` bytes.
ByteSource ChunkedStringSource(const std::string& data, size_t chunk = 1000) {
  auto offset = std::make_shared<size_t>(0);
  return [&data, chunk, offset]() -> Result<std::string_view> {
    std::string_view out = std::string_view(data).substr(*offset, chunk);
    *offset += out.size();
    return out;
  };
}

class ImageArchiveTest : public ::testing::Test {
 protected:
  Result<StagedArchive> Stage(const std::string& tar) {
    return StageArchive(ChunkedStringSource(tar), dir_.path());
  }
  cricket::testing::TempDir dir_{"imgarch"};
};

TEST_F(ImageArchiveTest, StagesEveryFileWithItsDigest) {
  std::string tar =
      BuildLayer({testing::Dir("blobs"), File("blobs/a", "alpha"), File("./index.json", "{}")},
                 Compression::kGzip);
  auto staged = Stage(tar);
  ASSERT_TRUE(staged.ok()) << staged.error().ToString();
  ASSERT_NE(staged->Find("blobs/a"), nullptr);
  EXPECT_EQ(staged->Find("blobs/a")->digest, Sha256Digest("alpha"));
  EXPECT_EQ(staged->Find("blobs/a")->size, 5);
  EXPECT_EQ(*staged->Read("index.json"), "{}");
  EXPECT_EQ(staged->Read("missing").error().code(), Code::kInvalidArgument);
}

TEST_F(ImageArchiveTest, RefusesANameThatEscapesTheArchive) {
  auto staged = Stage(BuildLayer({File("../evil", "x")}, Compression::kNone));
  ASSERT_FALSE(staged.ok());
  EXPECT_EQ(staged.error().code(), Code::kInvalidArgument);
  EXPECT_NE(staged.error().message().find("../evil"), std::string::npos)
      << staged.error().message();
}

TEST_F(ImageArchiveTest, RefusesASymlinkLeavingTheArchiveAndResolvesOneInside) {
  auto inside = Stage(
      BuildLayer({File("a/layer.tar", "L"), testing::Symlink("b/layer.tar", "../a/layer.tar")},
                 Compression::kNone));
  ASSERT_TRUE(inside.ok()) << inside.error().ToString();
  EXPECT_EQ(inside->Find("b/layer.tar")->digest, Sha256Digest("L"));

  cricket::testing::TempDir other("imgarch2");
  auto outside = StageArchive(
      ChunkedStringSource(BuildLayer(
          {File("a/layer.tar", "L"), testing::Symlink("b/layer.tar", "../../a/layer.tar")},
          Compression::kNone)),
      other.path());
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().code(), Code::kInvalidArgument);
  EXPECT_NE(outside.error().message().find("b/layer.tar: symlink to \"../../a/layer.tar\" leaves"),
            std::string::npos)
      << outside.error().message();
}

TEST_F(ImageArchiveTest, RefusesATruncatedArchive) {
  std::string tar = BuildLayer({File("blob", std::string(5000, 'x'))}, Compression::kNone);
  auto staged = Stage(tar.substr(0, 2000));
  ASSERT_FALSE(staged.ok());
  EXPECT_EQ(staged.error().code(), Code::kInvalidArgument);
  EXPECT_NE(staged.error().message().find("truncated"), std::string::npos)
      << staged.error().message();
}

TEST_F(ImageArchiveTest, PassesTheSourcesErrorOn) {
  ByteSource failing = []() -> Result<std::string_view> {
    return Error(Code::kCancelled, "client went away");
  };
  auto staged = StageArchive(failing, dir_.path());
  ASSERT_FALSE(staged.ok());
  EXPECT_EQ(staged.error().code(), Code::kCancelled);
}

}  // namespace
}  // namespace cricket::storage
