#include "storage/snapshotter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/files.h"
#include "storage/digest.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/layer_fixture.h"

namespace cricket::storage {
namespace {

namespace fs = std::filesystem;
using ::testing::_;
using testing::BuildLayer;
using testing::Compression;
using testing::File;
using ::testing::Return;
using ::testing::StrictMock;

// Only Mount and Umount2 are used by the snapshotter.
class MountSyscalls : public Syscalls {
 public:
  Result<UniqueFd> Open(const std::string&, int, mode_t) override { return Unused(); }
  Result<UniqueFd> Openat(int, const std::string&, int, mode_t) override { return Unused(); }
  Result<void> Mkdir(const std::string&, mode_t) override { return Unused(); }
  Result<void> Chmod(const std::string&, mode_t) override { return Unused(); }
  Result<void> Unlink(const std::string&) override { return Unused(); }
  Result<void> Rmdir(const std::string&) override { return Unused(); }
  Result<void> Rename(const std::string&, const std::string&) override { return Unused(); }
  Result<void> Flock(int, int) override { return Unused(); }
  Result<void> Fsync(int) override { return Unused(); }
  Result<void> Ftruncate(int, off_t) override { return Unused(); }
  Result<size_t> Write(int, std::string_view) override { return Unused(); }
  Result<void> Kill(pid_t, int) override { return Unused(); }
  MOCK_METHOD(Result<void>, Mount,
              (const std::string&, const std::string&, const std::string&, unsigned long,
               const std::string&),
              (override));
  MOCK_METHOD(Result<void>, Umount2, (const std::string&, int), (override));

 private:
  static Error Unused() { return Error(Code::kUnimplemented, "not used by the snapshotter"); }
};

class SnapshotterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    UnpackOptions unpack;
    unpack.privileged = false;
    unpack.overlay_xattr_prefix = "user.overlay.";
    auto s = Snapshotter::Open(dir_.Join("snap"), sys_, unpack);
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    snap_ = std::move(*s);
  }

  // Writes a layer blob and applies it; returns its diff id.
  std::string Apply(const std::string& parent_chain, const std::string& plain,
                    Result<void>* result = nullptr) {
    std::string path = dir_.Join("blob");
    EXPECT_TRUE(WriteFileAtomic(path, plain, 0644).ok());
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    std::string diff_id = Sha256Digest(plain);
    auto r = snap_->ApplyLayer(ChainId(parent_chain, diff_id), parent_chain, diff_id, fd.get());
    if (result != nullptr) {
      *result = r;
    } else {
      EXPECT_TRUE(r.ok()) << r.error().ToString();
    }
    return diff_id;
  }

  cricket::testing::TempDir dir_{"snap"};
  StrictMock<MountSyscalls> sys_;
  std::unique_ptr<Snapshotter> snap_;
};

TEST(ChainIdTest, FollowsImageSpec) {
  std::string a = Sha256Digest("a");
  std::string b = Sha256Digest("b");
  EXPECT_EQ(ChainId("", a), a);
  EXPECT_EQ(ChainId(a, b), Sha256Digest(a + " " + b));
  auto ids = ChainIds({a, b, a});
  ASSERT_EQ(ids.size(), 3U);
  EXPECT_EQ(ids[0], a);
  EXPECT_EQ(ids[2], Sha256Digest(ids[1] + " " + a));
}

TEST_F(SnapshotterTest, ApplyPrepareMountsRemove) {
  std::string base = Apply("", BuildLayer({File("a", "1")}, Compression::kNone));
  std::string top_diff = Apply(base, BuildLayer({File("b", "2")}, Compression::kNone));
  std::string top = ChainId(base, top_diff);
  ASSERT_TRUE(snap_->HasLayer(base));
  ASSERT_TRUE(snap_->HasLayer(top));
  auto lowers = snap_->LowerDirs(top);
  ASSERT_TRUE(lowers.ok());
  ASSERT_EQ(lowers->size(), 2U);
  EXPECT_TRUE(fs::exists((*lowers)[0] + "/b"));
  EXPECT_TRUE(fs::exists((*lowers)[1] + "/a"));

  ASSERT_TRUE(snap_->Prepare("ctr1", top).ok());
  EXPECT_EQ(snap_->Prepare("ctr1", top).error().code(), Code::kAlreadyExists);
  auto m = snap_->Mounts("ctr1");
  ASSERT_TRUE(m.ok());
  std::string want = "lowerdir=" + (*lowers)[0] + ":" + (*lowers)[1] +
                     ",upperdir=" + dir_.Join("snap/containers/ctr1/upper") +
                     ",workdir=" + dir_.Join("snap/containers/ctr1/work") + ",userxattr";
  EXPECT_EQ(OverlayOptions(*m), want);
  EXPECT_CALL(sys_, Mount("overlay", "/target", "overlay", 0UL, want)).WillOnce(Return(Ok()));
  EXPECT_TRUE(snap_->Mount("ctr1", "/target").ok());
  EXPECT_CALL(sys_, Umount2("/target", _))
      .WillOnce(Return(Ok()))
      .WillOnce(Return(Error::FromErrno(EINVAL, "umount /target")));
  EXPECT_TRUE(snap_->Unmount("/target").ok());
  EXPECT_TRUE(snap_->Unmount("/target").ok());  // idempotent

  ASSERT_TRUE(
      WriteFileAtomic(dir_.Join("snap/containers/ctr1/upper/new"), std::string(10000, 'x'), 0644)
          .ok());
  auto usage = snap_->Usage("ctr1");
  ASSERT_TRUE(usage.ok()) << usage.error().ToString();
  EXPECT_EQ(usage->inodes_used, 2);  // upper and the new file
  EXPECT_GE(usage->used_bytes, 10000);
  EXPECT_EQ(snap_->Usage("nope").error().code(), Code::kNotFound);
  EXPECT_EQ(*snap_->ListSnapshots(), std::vector<std::string>{"ctr1"});
  EXPECT_EQ(*snap_->SnapshotParent("ctr1"), top);
  ASSERT_TRUE(snap_->Remove("ctr1").ok());
  EXPECT_TRUE(snap_->Remove("ctr1").ok());
  EXPECT_TRUE(snap_->ListSnapshots()->empty());
  EXPECT_EQ(snap_->Mounts("ctr1").error().code(), Code::kNotFound);
}

TEST_F(SnapshotterTest, LayerUnpackedOnceAndShared) {
  std::string layer = BuildLayer({File("a", "1")}, Compression::kNone);
  std::string id = Apply("", layer);
  std::string marker = dir_.Join("snap/layers/" + id.substr(7) + "/fs/marker");
  ASSERT_TRUE(WriteFileAtomic(marker, "", 0644).ok());
  Apply("", layer);  // already there: not unpacked again
  EXPECT_TRUE(fs::exists(marker));
  EXPECT_EQ(snap_->ListLayers()->size(), 1U);
}

TEST_F(SnapshotterTest, FailedUnpackLeavesNothing) {
  Result<void> r = Ok();
  Apply("", BuildLayer({File("../escape", "x")}, Compression::kNone), &r);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_TRUE(snap_->ListLayers()->empty());
  EXPECT_TRUE(fs::is_empty(dir_.Join("snap/layers")));
}

TEST_F(SnapshotterTest, LayerOverUnpackCapLeavesNothing) {
  UnpackOptions unpack;
  unpack.privileged = false;
  unpack.overlay_xattr_prefix = "user.overlay.";
  unpack.max_entries = 10;
  auto s = Snapshotter::Open(dir_.Join("snap"), sys_, unpack);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  snap_ = std::move(*s);
  std::vector<testing::TarEntry> entries;
  for (int i = 0; i < 100; ++i) {
    entries.push_back(File("f" + std::to_string(i), ""));
  }
  Result<void> r = Ok();
  std::string diff_id = Apply("", BuildLayer(entries, Compression::kNone), &r);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kResourceExhausted) << r.error().ToString();
  EXPECT_NE(r.error().message().find(diff_id), std::string::npos) << r.error().message();
  // No layer under its chain ID and no temporary: the half-unpacked tree is gone.
  EXPECT_FALSE(snap_->HasLayer(diff_id));
  EXPECT_TRUE(fs::is_empty(dir_.Join("snap/layers")));
}

TEST_F(SnapshotterTest, MissingParentIsFailedPrecondition) {
  Result<void> r = Ok();
  Apply(Sha256Digest("missing"), BuildLayer({File("a", "1")}, Compression::kNone), &r);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kFailedPrecondition);
}

TEST_F(SnapshotterTest, TooManyLayersForOneMountIsResourceExhausted) {
  std::string chain;
  for (int i = 0; i < 45; ++i) {
    std::string diff =
        Apply(chain, BuildLayer({File("f" + std::to_string(i), "x")}, Compression::kNone));
    chain = ChainId(chain, diff);
  }
  ASSERT_TRUE(snap_->Prepare("deep", chain).ok());
  auto m = snap_->Mounts("deep");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), Code::kResourceExhausted) << m.error().ToString();
}

// An id-mapped mount fails before it changes anything when id 0 has no range (no mount, the
// upper directory keeps its owner) or the namespace file is missing (no mount).
TEST_F(SnapshotterTest, IdmappedMountChecksMappingsAndNamespaceFirst) {
  std::string base = Apply("", BuildLayer({File("a", "1")}, Compression::kNone));
  ASSERT_TRUE(snap_->Prepare("ctr1", base).ok());
  SnapshotIdmap idmap;
  idmap.userns_path = "/proc/self/ns/user";
  idmap.uid_mappings = {IdMapping{1, 100000, 65536}};
  idmap.gid_mappings = {IdMapping{0, 100000, 65536}};

  auto unmapped = snap_->Mount("ctr1", "/target", idmap);

  ASSERT_FALSE(unmapped.ok());
  EXPECT_EQ(unmapped.error().code(), Code::kInvalidArgument) << unmapped.error().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(dir_.Join("snap/containers/ctr1/upper").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::getuid());

  idmap.uid_mappings = {IdMapping{0, 100000, 65536}};
  idmap.userns_path = dir_.Join("no-such-namespace");
  auto missing = snap_->Mount("ctr1", "/target", idmap);

  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kNotFound) << missing.error().ToString();
}

TEST_F(SnapshotterTest, RejectsBadKeysAndIncompleteChains) {
  EXPECT_EQ(snap_->Prepare("../x", Sha256Digest("a")).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(snap_->Prepare("a/b", Sha256Digest("a")).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(snap_->Prepare("ok", Sha256Digest("a")).error().code(), Code::kNotFound);
}

TEST_F(SnapshotterTest, RemoveLayerAndSweepTemporaries) {
  std::string id = Apply("", BuildLayer({File("a", "1")}, Compression::kNone));
  ASSERT_TRUE(MakeDirs(dir_.Join("snap/layers/.tmp-leftover-123456/fs"), 0755).ok());
  ASSERT_TRUE(snap_->RemoveLayer(id).ok());
  EXPECT_TRUE(snap_->RemoveLayer(id).ok());
  EXPECT_FALSE(snap_->HasLayer(id));
  UnpackOptions unpack;
  unpack.privileged = false;
  auto reopened = Snapshotter::Open(dir_.Join("snap"), sys_, unpack);
  ASSERT_TRUE(reopened.ok());
  EXPECT_TRUE(fs::is_empty(dir_.Join("snap/layers")));
}

}  // namespace
}  // namespace cricket::storage
