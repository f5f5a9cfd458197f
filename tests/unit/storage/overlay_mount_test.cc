#include "storage/overlay_mount.h"

#include <fcntl.h>

#include <gtest/gtest.h>

namespace cricket::storage {
namespace {

OverlayMount TwoLayers() {
  OverlayMount m;
  m.lower_dirs = {"/s/layers/b/fs", "/s/layers/a/fs"};
  m.upper_dir = "/s/containers/c/upper";
  m.work_dir = "/s/containers/c/work";
  return m;
}

TEST(OverlayOptionsTest, LowersTopFirstThenUpperAndWork) {
  OverlayMount m = TwoLayers();

  EXPECT_EQ(OverlayOptions(m),
            "lowerdir=/s/layers/b/fs:/s/layers/a/fs,upperdir=/s/containers/c/upper,"
            "workdir=/s/containers/c/work");
  m.userxattr = true;
  EXPECT_EQ(OverlayOptions(m),
            "lowerdir=/s/layers/b/fs:/s/layers/a/fs,upperdir=/s/containers/c/upper,"
            "workdir=/s/containers/c/work,userxattr");
}

TEST(OverlayOptionsTest, LayerFdPathsReplaceTheLowersInOrder) {
  std::vector<UniqueFd> layers;
  for (int i = 0; i < 2; ++i) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
    layers.emplace_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(layers.back().valid());
  }
  OverlayMount m = TwoLayers();

  m.lower_dirs = LayerFdPaths(layers);

  const std::string a = std::to_string(layers[0].get());
  const std::string b = std::to_string(layers[1].get());
  EXPECT_EQ(OverlayOptions(m), "lowerdir=/proc/self/fd/" + a + ":/proc/self/fd/" + b +
                                   ",upperdir=/s/containers/c/upper,workdir=/s/containers/c/work");
}

TEST(NamespaceRootTest, HostIdsOfTheRangeThatMapsIdZero) {
  SnapshotIdmap idmap;
  idmap.uid_mappings = {IdMapping{1000, 5000, 10}, IdMapping{0, 100000, 65536}};
  idmap.gid_mappings = {IdMapping{0, 200000, 65536}};

  auto root = NamespaceRoot(idmap);

  ASSERT_TRUE(root.ok()) << root.error().ToString();
  EXPECT_EQ(root->uid, 100000U);
  EXPECT_EQ(root->gid, 200000U);
}

TEST(NamespaceRootTest, NoRangeForIdZeroIsInvalidArgumentNamingTheField) {
  SnapshotIdmap idmap;
  idmap.uid_mappings = {IdMapping{0, 100000, 65536}};
  idmap.gid_mappings = {IdMapping{1, 200000, 65536}, IdMapping{0, 300000, 0}};

  auto root = NamespaceRoot(idmap);

  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(root.error().message(), "gid_mappings: no range maps id 0");
  idmap.uid_mappings.clear();
  EXPECT_EQ(NamespaceRoot(idmap).error().message(), "uid_mappings: no range maps id 0");
}

}  // namespace
}  // namespace cricket::storage
