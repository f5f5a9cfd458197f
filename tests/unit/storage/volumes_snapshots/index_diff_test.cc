#include "storage/volumes/snapshots/index_diff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cricket::storage::volumes {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int64_t kSecond = 1000000000;
constexpr int64_t kScan = 1000 * kSecond;

IndexEntry File(std::string path, int64_t size, std::string hash, int64_t mtime = 10 * kSecond) {
  IndexEntry e;
  e.path = std::move(path);
  e.type = EntryType::kFile;
  e.mode = 0644;
  e.size = size;
  e.mtime_ns = mtime;
  e.ctime_ns = mtime;
  e.hash = std::move(hash);
  return e;
}

IndexEntry Dir(std::string path, int64_t mtime = 10 * kSecond) {
  IndexEntry e;
  e.path = std::move(path);
  e.type = EntryType::kDir;
  e.mode = 0755;
  e.mtime_ns = mtime;
  e.ctime_ns = mtime;
  return e;
}

IndexEntry Link(std::string path, std::string target) {
  IndexEntry e;
  e.path = std::move(path);
  e.type = EntryType::kSymlink;
  e.mode = 0777;
  e.link_target = std::move(target);
  e.mtime_ns = 10 * kSecond;
  return e;
}

VolumeIndex Previous(std::vector<IndexEntry> entries) {
  VolumeIndex index;
  index.scan_time_ns = kScan;
  index.entries = std::move(entries);
  return index;
}

// Hashing must not happen unless metadata is ambiguous; tests that expect it pass a table.
HashFile NoHash() {
  return [](const IndexEntry& e) -> Result<std::string> {
    ADD_FAILURE() << "unexpected hash of " << e.path;
    return std::string("sha256:unexpected");
  };
}

std::vector<std::string> Paths(const std::vector<IndexEntry>& entries,
                               const std::vector<size_t>& idx) {
  std::vector<std::string> out;
  for (size_t i : idx) {
    out.push_back(entries[i].path);
  }
  return out;
}

TEST(IndexDiffTest, UnchangedTreeIsEmptyAndKeepsHashes) {
  VolumeIndex prev = Previous({Dir("d"), File("d/a", 3, "sha256:a")});
  std::vector<IndexEntry> cur = {Dir("d"), File("d/a", 3, "")};
  auto diff = DiffIndex(prev, cur, NoHash(), kSecond);
  ASSERT_TRUE(diff.ok()) << diff.error().ToString();
  EXPECT_TRUE(diff->empty());
  EXPECT_EQ(cur[1].hash, "sha256:a");
}

TEST(IndexDiffTest, AddedFilePacksItAndItsParents) {
  VolumeIndex prev = Previous({Dir("d"), Dir("d/e"), File("x", 1, "sha256:x")});
  std::vector<IndexEntry> cur = {Dir("d"), Dir("d/e", 20 * kSecond), File("d/e/new", 5, ""),
                                 File("x", 1, "")};
  auto diff = DiffIndex(prev, cur, NoHash(), kSecond);
  ASSERT_TRUE(diff.ok());
  EXPECT_THAT(diff->added, ElementsAre("d/e/new"));
  EXPECT_THAT(diff->modified, ElementsAre("d/e"));
  EXPECT_THAT(Paths(cur, diff->pack), ElementsAre("d", "d/e", "d/e/new"));
  EXPECT_THAT(diff->whiteouts, IsEmpty());
}

TEST(IndexDiffTest, ChangedSizeOrMtimeIsModified) {
  VolumeIndex prev = Previous({File("a", 3, "sha256:a"), File("b", 3, "sha256:b")});
  std::vector<IndexEntry> cur = {File("a", 4, ""), File("b", 3, "", 11 * kSecond)};
  auto diff = DiffIndex(prev, cur, NoHash(), kSecond);
  ASSERT_TRUE(diff.ok());
  EXPECT_THAT(diff->modified, ElementsAre("a", "b"));
  EXPECT_THAT(Paths(cur, diff->pack), ElementsAre("a", "b"));
}

TEST(IndexDiffTest, DeletedEntriesGetOneWhiteoutPerTopmostPath) {
  VolumeIndex prev = Previous({Dir("d"), Dir("d/sub"), File("d/sub/f", 1, "sha256:f"),
                               File("d/g", 1, "sha256:g"), File("top", 1, "sha256:t")});
  std::vector<IndexEntry> cur = {Dir("d", 20 * kSecond)};
  auto diff = DiffIndex(prev, cur, NoHash(), kSecond);
  ASSERT_TRUE(diff.ok());
  EXPECT_THAT(diff->deleted, ElementsAre("d/sub", "d/sub/f", "d/g", "top"));
  // d/sub/f is covered by the whiteout of d/sub.
  EXPECT_THAT(diff->whiteouts, ElementsAre("d/g", "d/sub", "top"));
}

TEST(IndexDiffTest, RenameIsDeleteAndAdd) {
  VolumeIndex prev = Previous({File("old", 3, "sha256:o")});
  std::vector<IndexEntry> cur = {File("new", 3, "")};
  auto diff = DiffIndex(prev, cur, NoHash(), kSecond);
  ASSERT_TRUE(diff.ok());
  EXPECT_THAT(diff->added, ElementsAre("new"));
  EXPECT_THAT(diff->whiteouts, ElementsAre("old"));
}

TEST(IndexDiffTest, ModeOwnerAndTypeChangesAreModified) {
  VolumeIndex prev = Previous({File("m", 1, "sha256:m"), File("o", 1, "sha256:o"),
                               File("t", 1, "sha256:t"), Dir("dd"), File("dd/child", 1, "h")});
  IndexEntry m = File("m", 1, "");
  m.mode = 0600;
  IndexEntry o = File("o", 1, "");
  o.uid = 1000;
  // "t" became a directory; "dd" a file: its old child needs no whiteout.
  std::vector<IndexEntry> cur = {File("dd", 1, ""), m, o, Dir("t")};
  auto diff = DiffIndex(prev, cur, NoHash(), kSecond);
  ASSERT_TRUE(diff.ok());
  EXPECT_THAT(diff->modified, ElementsAre("dd", "m", "o", "t"));
  EXPECT_THAT(diff->deleted, ElementsAre("dd/child"));
  EXPECT_THAT(diff->whiteouts, IsEmpty());
}

TEST(IndexDiffTest, SymlinkTargetChangeIsModified) {
  VolumeIndex prev = Previous({Link("l", "a"), Link("same", "x")});
  std::vector<IndexEntry> cur = {Link("l", "b"), Link("same", "x")};
  auto diff = DiffIndex(prev, cur, NoHash(), kSecond);
  ASSERT_TRUE(diff.ok());
  EXPECT_THAT(diff->modified, ElementsAre("l"));
  EXPECT_THAT(Paths(cur, diff->pack), ElementsAre("l"));
}

TEST(IndexDiffTest, AmbiguousMetadataIsSettledByHash) {
  // Both files were written within the margin of the previous scan, "same" keeps its content.
  int64_t racy = kScan - kSecond / 2;
  VolumeIndex prev = Previous({File("same", 3, "sha256:same", racy),
                               File("changed", 3, "sha256:old", racy)});
  std::vector<IndexEntry> cur = {File("changed", 3, "", racy), File("same", 3, "", racy)};
  HashFile hash = [](const IndexEntry& e) -> Result<std::string> {
    return std::string(e.path == "same" ? "sha256:same" : "sha256:new");
  };
  auto diff = DiffIndex(prev, cur, hash, kSecond);
  ASSERT_TRUE(diff.ok());
  EXPECT_THAT(diff->modified, ElementsAre("changed"));
  EXPECT_EQ(cur[1].hash, "sha256:same");
}

TEST(IndexDiffTest, CtimeChangeWithoutKnownHashIsModified) {
  VolumeIndex prev = Previous({File("a", 3, "")});
  std::vector<IndexEntry> cur = {File("a", 3, "")};
  cur[0].ctime_ns += kSecond;  // e.g. mtime reset after a write
  auto diff = DiffIndex(prev, cur, NoHash(), kSecond);
  ASSERT_TRUE(diff.ok());
  EXPECT_THAT(diff->modified, ElementsAre("a"));
}

TEST(IndexDiffTest, DirtyEntryIsPackedAgain) {
  VolumeIndex prev = Previous({File("log", 3, "sha256:x")});
  prev.entries[0].dirty = true;
  std::vector<IndexEntry> cur = {File("log", 3, "")};
  auto diff = DiffIndex(prev, cur, NoHash(), kSecond);
  ASSERT_TRUE(diff.ok());
  EXPECT_THAT(diff->modified, ElementsAre("log"));
}

}  // namespace
}  // namespace cricket::storage::volumes
