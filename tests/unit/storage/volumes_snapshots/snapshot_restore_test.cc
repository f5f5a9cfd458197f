// Snapshot and Restore through the dir backend: round trips, whiteouts, squash, corruption, and
// what a restore downloads.

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/files.h"
#include "storage/volumes/snapshots/dir_snapshot_store.h"
#include "storage/volumes/snapshots/volume_restore.h"
#include "storage/volumes/snapshots/volume_snapshot.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/storage/volumes_snapshots/volume_tree.h"

namespace cricket::storage::volumes {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::DescribeTree;
using testing::RandomBytes;
using testing::WriteFile;

class SnapshotRestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    volume_ = tmp_.Join("volume");
    state_ = tmp_.Join("state");
    ASSERT_TRUE(MakeDirs(volume_, 0755).ok());
    auto store = DirSnapshotStore::Open(tmp_.Join("store"));
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(store).value();
  }

  SnapshotResult Snap(const std::string& parent, const SnapshotOptions& options = {}) {
    auto r = Snapshot(volume_, state_, *store_, parent, options);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : SnapshotResult{};
  }

  RestoreResult Restored(const std::string& digest, const std::string& target,
                         const std::string& cache, const std::string& state = "") {
    RestoreOptions options;
    options.state_dir = state;
    auto r = Restore(digest, *store_, cache, target, options);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : RestoreResult{};
  }

  // The tar entry names of a layer blob in the store.
  std::vector<std::string> LayerEntries(const std::string& digest) {
    std::string path = tmp_.Join("store") + "/blobs/sha256/" + digest.substr(7);
    std::vector<std::string> names;
    archive* a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    EXPECT_EQ(archive_read_open_filename(a, path.c_str(), 65536), ARCHIVE_OK);
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
      names.push_back(archive_entry_pathname(e));
    }
    archive_read_free(a);
    return names;
  }

  std::string HeadLayer(const std::string& manifest_digest) {
    auto body = store_->GetManifest(manifest_digest);
    EXPECT_TRUE(body.ok());
    auto m = ParseImageManifest(*body);
    EXPECT_TRUE(m.ok());
    return m->layers.back().digest;
  }

  cricket::testing::TempDir tmp_{"volsnap"};
  std::string volume_;
  std::string state_;
  std::unique_ptr<DirSnapshotStore> store_;
};

TEST_F(SnapshotRestoreTest, DirBackendRoundTripKeepsTypesModesLinksAndTimes) {
  WriteFile(volume_ + "/a.txt", "hello");
  WriteFile(volume_ + "/bin/tool", RandomBytes(100000, 1), 0755);
  WriteFile(volume_ + "/secret", "s", 0600);
  ASSERT_TRUE(MakeDirs(volume_ + "/empty/dir", 0700).ok());
  fs::create_symlink("a.txt", volume_ + "/link");
  fs::create_symlink("/nonexistent/abs", volume_ + "/dangling");
  fs::create_hard_link(volume_ + "/a.txt", volume_ + "/bin/hard");
  ASSERT_EQ(::mkfifo((volume_ + "/fifo").c_str(), 0640), 0);
  ASSERT_EQ(::chmod(volume_.c_str(), 0750), 0);

  SnapshotResult first = Snap("");
  EXPECT_TRUE(first.new_layer);
  EXPECT_TRUE(first.full_layer);
  EXPECT_EQ(first.layer_count, 1);
  EXPECT_GT(first.bytes_uploaded, 0);

  std::string target = tmp_.Join("restored");
  RestoreResult r = Restored(first.manifest_digest, target, tmp_.Join("cache"));
  EXPECT_EQ(r.layer_count, 1);
  EXPECT_EQ(DescribeTree(target), DescribeTree(volume_));
  struct stat a {};
  struct stat hard {};
  ASSERT_EQ(::stat((target + "/a.txt").c_str(), &a), 0);
  ASSERT_EQ(::stat((target + "/bin/hard").c_str(), &hard), 0);
  EXPECT_EQ(a.st_ino, hard.st_ino);
}

TEST_F(SnapshotRestoreTest, NothingChangedReturnsTheParentWithoutUpload) {
  WriteFile(volume_ + "/a", "1");
  SnapshotResult first = Snap("");
  SnapshotResult again = Snap(first.manifest_digest);
  EXPECT_FALSE(again.new_layer);
  EXPECT_EQ(again.manifest_digest, first.manifest_digest);
  EXPECT_EQ(again.bytes_uploaded, 0);
}

TEST_F(SnapshotRestoreTest, IncrementalLayerHoldsChangesAndWhiteoutsThatRestoreApplies) {
  WriteFile(volume_ + "/keep", RandomBytes(200000, 2));
  WriteFile(volume_ + "/change", "v1");
  WriteFile(volume_ + "/gone", "x");
  WriteFile(volume_ + "/dir/gone-too/f", "y");
  WriteFile(volume_ + "/dir/stays", "z");
  fs::create_symlink("keep", volume_ + "/link");
  SnapshotResult first = Snap("");

  WriteFile(volume_ + "/change", "version two");
  fs::remove(volume_ + "/gone");
  fs::remove_all(volume_ + "/dir/gone-too");
  fs::remove(volume_ + "/link");
  fs::create_symlink("change", volume_ + "/link");
  WriteFile(volume_ + "/new/file", "n");
  ASSERT_EQ(::chmod((volume_ + "/dir/stays").c_str(), 0600), 0);
  SnapshotResult second = Snap(first.manifest_digest);
  ASSERT_TRUE(second.new_layer);
  EXPECT_FALSE(second.full_layer);
  EXPECT_EQ(second.layer_count, 2);
  EXPECT_LT(second.bytes_uploaded, 10000);  // "keep" (200 KB) is not packed again

  std::vector<std::string> entries = LayerEntries(HeadLayer(second.manifest_digest));
  EXPECT_THAT(entries, Contains(".wh.gone"));
  EXPECT_THAT(entries, Contains("dir/.wh.gone-too"));
  EXPECT_THAT(entries, Not(Contains("dir/gone-too/.wh.f")));
  EXPECT_THAT(entries, Contains("change"));
  EXPECT_THAT(entries, Contains("new/file"));
  EXPECT_THAT(entries, Contains("dir/stays"));
  EXPECT_THAT(entries, Not(Contains("keep")));

  std::string target = tmp_.Join("restored");
  Restored(second.manifest_digest, target, tmp_.Join("cache"));
  EXPECT_EQ(DescribeTree(target), DescribeTree(volume_));
  EXPECT_FALSE(fs::exists(target + "/gone"));
  EXPECT_FALSE(fs::exists(target + "/dir/gone-too"));
}

TEST_F(SnapshotRestoreTest, SquashesIntoOneFullLayerAfterNLayers) {
  SnapshotOptions options;
  options.squash_after_layers = 3;
  std::string parent;
  std::vector<int> counts;
  std::vector<bool> full;
  for (int i = 0; i < 5; ++i) {
    WriteFile(volume_ + "/f" + std::to_string(i), RandomBytes(1000, i));
    if (i == 2) {
      fs::remove(volume_ + "/f0");
    }
    SnapshotResult s = Snap(parent, options);
    counts.push_back(s.layer_count);
    full.push_back(s.full_layer);
    parent = s.manifest_digest;
  }
  EXPECT_EQ(counts, (std::vector<int>{1, 2, 3, 1, 2}));
  EXPECT_EQ(full, (std::vector<bool>{true, false, false, true, false}));
  // The squashed layer holds no whiteouts: f0 is simply absent.
  EXPECT_THAT(LayerEntries(HeadLayer(parent)), Not(Contains(".wh.f0")));
  std::string target = tmp_.Join("restored");
  Restored(parent, target, tmp_.Join("cache"));
  EXPECT_EQ(DescribeTree(target), DescribeTree(volume_));
}

TEST_F(SnapshotRestoreTest, RestoreFetchesOnlyLayersMissingFromTheCache) {
  WriteFile(volume_ + "/big", RandomBytes(300000, 3));
  SnapshotResult first = Snap("");
  std::string cache = tmp_.Join("cache");
  RestoreResult r1 = Restored(first.manifest_digest, tmp_.Join("r1"), cache);
  EXPECT_EQ(r1.blobs_downloaded, 2);  // config + layer
  EXPECT_GT(r1.bytes_downloaded, 300000);

  WriteFile(volume_ + "/small", "tiny change");
  SnapshotResult second = Snap(first.manifest_digest);
  RestoreResult r2 = Restored(second.manifest_digest, tmp_.Join("r2"), cache);
  EXPECT_EQ(r2.layer_count, 2);
  EXPECT_EQ(r2.blobs_downloaded, 2);  // the new config and the new layer only
  EXPECT_LT(r2.bytes_downloaded, 5000);
  EXPECT_EQ(DescribeTree(tmp_.Join("r2")), DescribeTree(volume_));

  // A snapshot that fills the local layer cache leaves nothing to download on this node.
  SnapshotOptions options;
  options.layer_cache_dir = cache;
  WriteFile(volume_ + "/more", "again");
  SnapshotResult third = Snap(second.manifest_digest, options);
  RestoreResult r3 = Restored(third.manifest_digest, tmp_.Join("r3"), cache);
  EXPECT_EQ(r3.blobs_downloaded, 0);
  EXPECT_EQ(r3.bytes_downloaded, 0);
}

TEST_F(SnapshotRestoreTest, CorruptedBlobIsDataLossNamingItAndLeavesTargetUntouched) {
  WriteFile(volume_ + "/data", RandomBytes(50000, 4));
  SnapshotResult s = Snap("");
  std::string layer = HeadLayer(s.manifest_digest);
  std::string blob = tmp_.Join("store") + "/blobs/sha256/" + layer.substr(7);
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.write("CORRUPT", 7);
  }
  std::string target = tmp_.Join("target");
  WriteFile(target + "/old", "previous content");
  auto before = DescribeTree(target);

  auto r = Restore(s.manifest_digest, *store_, tmp_.Join("cache"), target);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kDataLoss) << r.error().ToString();
  EXPECT_THAT(r.error().message(), HasSubstr(layer));
  EXPECT_EQ(DescribeTree(target), before);
  for (const auto& e : fs::directory_iterator(tmp_.path())) {
    EXPECT_THAT(e.path().filename().string(), Not(HasSubstr(".restore-")));
  }
}

TEST_F(SnapshotRestoreTest, RestoreReplacesAnExistingTargetAtomically) {
  WriteFile(volume_ + "/new", "n");
  SnapshotResult s = Snap("");
  std::string target = tmp_.Join("target");
  WriteFile(target + "/stale", "old copy");
  Restored(s.manifest_digest, target, tmp_.Join("cache"));
  EXPECT_EQ(DescribeTree(target), DescribeTree(volume_));
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp_.path()), fs::directory_iterator()),
            5);  // volume, state, store, cache, target: no staging leftovers
}

TEST_F(SnapshotRestoreTest, SnapshotAfterRestoreOnAnotherNodeIsIncremental) {
  WriteFile(volume_ + "/base", RandomBytes(200000, 5));
  SnapshotResult a = Snap("");
  // "Node B": its own copy, cache and state dir.
  std::string b_volume = tmp_.Join("b-volume");
  std::string b_state = tmp_.Join("b-state");
  Restored(a.manifest_digest, b_volume, tmp_.Join("b-cache"), b_state);
  WriteFile(b_volume + "/changed-on-b", "b");
  auto b = Snapshot(b_volume, b_state, *store_, a.manifest_digest);
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  EXPECT_FALSE(b->full_layer);
  EXPECT_EQ(b->layer_count, 2);
  EXPECT_LT(b->bytes_uploaded, 5000);
  Restored(b->manifest_digest, tmp_.Join("back-on-a"), tmp_.Join("cache"));
  EXPECT_EQ(DescribeTree(tmp_.Join("back-on-a")), DescribeTree(b_volume));
}

TEST_F(SnapshotRestoreTest, NotASnapshotManifestIsRefused) {
  auto digest = store_->PutManifest(
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json",)"
      R"("digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000",)"
      R"("size":2},"layers":[]})",
      "");
  ASSERT_TRUE(digest.ok());
  auto r = Restore(*digest, *store_, tmp_.Join("cache"), tmp_.Join("t"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kFailedPrecondition);
  EXPECT_FALSE(fs::exists(tmp_.Join("t")));
}

}  // namespace
}  // namespace cricket::storage::volumes

namespace cricket::storage::volumes {
namespace {

// What a writer that rewrites "hot" chunk by chunk, pass after pass, leaves at any instant:
// chunks [0, k) of pass v and [k, n) of pass v-1. A torn read could show anything else.
constexpr size_t kChunk = 64 * 1024;
constexpr size_t kChunks = 8;

bool IsAnInstantOfTheWriter(const std::string& data) {
  if (data.size() != kChunk * kChunks) {
    return false;
  }
  std::vector<char> letters;
  for (size_t c = 0; c < kChunks; ++c) {
    std::string_view chunk(data.data() + c * kChunk, kChunk);
    if (chunk.find_first_not_of(chunk[0]) != std::string_view::npos) {
      return false;
    }
    letters.push_back(chunk[0]);
  }
  size_t k = 0;
  while (k < kChunks && letters[k] == letters[0]) {
    ++k;
  }
  for (size_t c = k; c < kChunks; ++c) {
    if (letters[c] != letters[k]) {
      return false;
    }
  }
  // The newer pass's letter follows the older one's.
  return k == kChunks || (letters[k] - 'a' + 1) % 26 == letters[0] - 'a';
}

// A writer keeps rewriting a file while snapshots run: they never block it, never fail, and the
// restored file is a state the file really had, or is marked dirty for the next snapshot.
TEST(SnapshotWhileWritingTest, WriterIsNeverBlockedAndTornFilesAreRepackedOrMarkedDirty) {
  cricket::testing::TempDir tmp("volsnap-writer");
  std::string volume = tmp.Join("volume");
  ASSERT_TRUE(MakeDirs(volume, 0755).ok());
  testing::WriteFile(volume + "/stable", testing::RandomBytes(100000, 1));
  testing::WriteFile(volume + "/hot", std::string(kChunk * kChunks, 'a'));
  auto store = DirSnapshotStore::Open(tmp.Join("store"));
  ASSERT_TRUE(store.ok());

  std::atomic<bool> stop{false};
  std::atomic<int64_t> writes{0};
  std::thread writer([&] {
    int fd = ::open((volume + "/hot").c_str(), O_WRONLY | O_CLOEXEC);
    for (int pass = 1; !stop.load(); ++pass) {
      std::string chunk(kChunk, static_cast<char>('a' + pass % 26));
      for (size_t c = 0; c < kChunks; ++c) {
        if (::pwrite(fd, chunk.data(), kChunk, static_cast<off_t>(c * kChunk)) !=
            static_cast<ssize_t>(kChunk)) {
          ADD_FAILURE() << "pwrite hot";
          stop = true;
        }
      }
      writes.fetch_add(1);
    }
    ::close(fd);
  });
  while (writes.load() == 0) {
    std::this_thread::yield();  // the writer is running before the first snapshot starts
  }
  int64_t writes_before = writes.load();
  std::string parent;
  // At least five snapshots, and more until the writer has finished two passes while they run:
  // on a loaded machine the writer may get no CPU during the first five (then it only fails at
  // the deadline, when snapshots really hold it up).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int i = 0; i < 5 || (writes.load() - writes_before < 2 &&
                            std::chrono::steady_clock::now() < deadline);
       ++i) {
    auto s = Snapshot(volume, tmp.Join("state"), **store, parent);
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    parent = s->manifest_digest;
  }
  int64_t writes_during = writes.load() - writes_before;
  stop = true;
  writer.join();
  EXPECT_GE(writes_during, 2);

  std::string target = tmp.Join("restored");
  auto r = Restore(parent, **store, tmp.Join("cache"), target);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  auto restored_hot = ReadFile(target + "/hot");
  ASSERT_TRUE(restored_hot.ok());
  auto index = LoadIndex(IndexPath(tmp.Join("state")));
  ASSERT_TRUE(index.ok());
  bool dirty = false;
  for (const IndexEntry& e : index->entries) {
    dirty = dirty || (e.path == "hot" && e.dirty);
  }
  EXPECT_TRUE(dirty || IsAnInstantOfTheWriter(*restored_hot));
  EXPECT_EQ(ReadFile(target + "/stable").value_or(""), ReadFile(volume + "/stable").value_or("x"));
}

}  // namespace
}  // namespace cricket::storage::volumes
