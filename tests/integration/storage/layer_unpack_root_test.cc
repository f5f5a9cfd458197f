#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/unique_fd.h"
#include "storage/layer_unpack.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/layer_fixture.h"

namespace cricket::storage {
namespace {

using testing::BuildLayer;
using testing::Compression;
using testing::Dir;
using testing::File;
using testing::Symlink;
using testing::TarEntry;

class LayerUnpackRootTest : public ::testing::Test {
 protected:
  Result<UnpackStats> Unpack(const std::string& blob) {
    std::string blob_path = dir_.Join("blob");
    EXPECT_TRUE(WriteFileAtomic(blob_path, blob, 0644).ok());
    EXPECT_TRUE(MakeDirs(dir_.Join("layer"), 0755).ok());
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
    UniqueFd blob_fd(::open(blob_path.c_str(), O_RDONLY | O_CLOEXEC));
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
    UniqueFd layer_fd(::open(dir_.Join("layer").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    UnpackOptions options;  // privileged, trusted.overlay.
    return UnpackLayer(blob_fd.get(), layer_fd.get(), options);
  }
  std::string L(const std::string& p) { return dir_.Join("layer/" + p); }

  cricket::testing::TempDir dir_{"unpack-root"};
};

TEST_F(LayerUnpackRootTest, DeviceNodesOwnersAndFifos) {
  CR_REQUIRE_ROOT();
  TarEntry null_dev;
  null_dev.path = "dev/null";
  null_dev.type = 0020000;
  null_dev.perm = 0666;
  null_dev.rdev = makedev(1, 3);
  TarEntry loop;
  loop.path = "dev/loop9";
  loop.type = 0060000;
  loop.perm = 0660;
  loop.gid = 6;
  loop.rdev = makedev(7, 9);
  TarEntry fifo;
  fifo.path = "run/fifo";
  fifo.type = 0010000;
  fifo.perm = 0620;
  TarEntry owned = File("home/user/file", "data", 04750);
  owned.uid = 1000;
  owned.gid = 1001;
  TarEntry home = Dir("home/user/", 0700);
  home.uid = 1000;
  home.gid = 1000;
  TarEntry link = Symlink("home/user/link", "file");
  link.uid = 1000;
  link.gid = 1000;
  auto stats = Unpack(
      BuildLayer({Dir("dev/"), null_dev, loop, fifo, home, owned, link}, Compression::kGzip));
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();

  struct stat st {};
  ASSERT_EQ(::lstat(L("dev/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(st.st_mode & 07777, 0666U);
  ASSERT_EQ(::lstat(L("dev/loop9").c_str(), &st), 0);
  EXPECT_TRUE(S_ISBLK(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(7, 9));
  EXPECT_EQ(st.st_gid, 6U);
  ASSERT_EQ(::lstat(L("run/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0620U);
  ASSERT_EQ(::lstat(L("home/user/file").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000U);
  EXPECT_EQ(st.st_gid, 1001U);
  EXPECT_EQ(st.st_mode & 07777, 04750U);  // set-uid survives the chown
  ASSERT_EQ(::lstat(L("home/user").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000U);
  EXPECT_EQ(st.st_mode & 07777, 0700U);
  ASSERT_EQ(::lstat(L("home/user/link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(st.st_uid, 1000U);
}

TEST_F(LayerUnpackRootTest, OpaqueDirGetsTrustedXattrAndForgedOnesAreDropped) {
  CR_REQUIRE_ROOT();
  TarEntry forged = Dir("other/");
  forged.xattrs = {{"trusted.overlay.opaque", "y"}, {"trusted.custom", "kept"}};
  auto stats =
      Unpack(BuildLayer({Dir("d/"), File("d/.wh..wh..opq", ""), forged}, Compression::kZstd));
  ASSERT_TRUE(stats.ok()) << stats.error().ToString();
  char value[8] = {};
  ASSERT_EQ(::getxattr(L("d").c_str(), "trusted.overlay.opaque", value, sizeof(value)), 1);
  EXPECT_EQ(value[0], 'y');
  EXPECT_LT(::getxattr(L("other").c_str(), "trusted.overlay.opaque", value, sizeof(value)), 0);
  ASSERT_EQ(::getxattr(L("other").c_str(), "trusted.custom", value, sizeof(value)), 4);
}

}  // namespace
}  // namespace cricket::storage
