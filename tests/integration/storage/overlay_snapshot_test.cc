#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "common/cleanup.h"
#include "common/files.h"
#include "common/syscalls.h"
#include "storage/digest.h"
#include "storage/snapshotter.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/layer_fixture.h"

namespace cricket::storage {
namespace {

namespace fs = std::filesystem;
using testing::BuildLayer;
using testing::Compression;
using testing::Dir;
using testing::File;

std::set<std::string> Names(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    out.insert(e.path().filename());
  }
  return out;
}

class OverlaySnapshotTest : public ::testing::Test {
 protected:
  std::string Apply(const std::string& parent, const std::string& plain) {
    std::string path = dir_.Join("blob");
    EXPECT_TRUE(WriteFileAtomic(path, plain, 0644).ok());
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    std::string diff_id = Sha256Digest(plain);
    std::string chain = ChainId(parent, diff_id);
    auto r = snap_->ApplyLayer(chain, parent, diff_id, fd.get());
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return chain;
  }

  cricket::testing::TempDir dir_{"overlay"};
  LinuxSyscalls sys_;
  std::unique_ptr<Snapshotter> snap_;
};

TEST_F(OverlaySnapshotTest, WhiteoutAndOpaqueDirGiveMergedView) {
  CR_REQUIRE_ROOT();
  auto s = Snapshotter::Open(dir_.Join("snap"), sys_, UnpackOptions{});
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  snap_ = std::move(*s);

  std::string base =
      Apply("", BuildLayer({Dir("etc/"), File("etc/removed", "r"), File("etc/kept", "k"),
                            Dir("var/"), Dir("var/cache/"), File("var/cache/old1", "1"),
                            File("var/cache/old2", "2"), File("replaced", "old")},
                           Compression::kNone));
  std::string top = Apply(base, BuildLayer({File("etc/.wh.removed", ""), Dir("var/cache/"),
                                            File("var/cache/.wh..wh..opq", ""),
                                            File("var/cache/new", "n"), File("replaced", "new")},
                                           Compression::kNone));
  ASSERT_TRUE(snap_->Prepare("crtest-ctr", top).ok());
  std::string merged = dir_.Join("merged");
  ASSERT_TRUE(MakeDirs(merged, 0755).ok());
  auto mounted = snap_->Mount("crtest-ctr", merged);
  ASSERT_TRUE(mounted.ok()) << mounted.error().ToString();
  Cleanup unmount([&] { (void)snap_->Unmount(merged); });

  EXPECT_EQ(Names(merged + "/etc"), std::set<std::string>{"kept"});
  EXPECT_EQ(Names(merged + "/var/cache"), std::set<std::string>{"new"});
  EXPECT_EQ(*ReadFile(merged + "/replaced"), "new");
  EXPECT_EQ(*ReadFile(merged + "/etc/kept"), "k");

  // Writes go to the container's upper dir, never into the shared layers.
  ASSERT_TRUE(WriteFileAtomic(merged + "/etc/kept", "changed", 0644).ok());
  ASSERT_TRUE(snap_->Unmount(merged).ok());
  unmount.Dismiss();
  EXPECT_EQ(*ReadFile(dir_.Join("snap/containers/crtest-ctr/upper/etc/kept")), "changed");
  auto lowers = snap_->LowerDirs(top);
  ASSERT_TRUE(lowers.ok());
  EXPECT_EQ(*ReadFile(lowers->back() + "/etc/kept"), "k");
  EXPECT_TRUE(snap_->Unmount(merged).ok());
  ASSERT_TRUE(snap_->Remove("crtest-ctr").ok());
  EXPECT_TRUE(snap_->ListSnapshots()->empty());
}

}  // namespace
}  // namespace cricket::storage
