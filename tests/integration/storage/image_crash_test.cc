// The image rows of the crash matrix (issue #14): every fail point of PullImage, RemoveImage
// and image GC × {kill, error, enospc}. A forked child pulls or removes the test busybox image
// (hack/test-registry, a CTest fixture) with the point enabled; with kill it dies there, with
// error/enospc the call must fail with the matching code and leave nothing (checked in the
// child, before any reopen). Then the parent reopens the store (start-up reconcile) and checks:
// the image is complete and usable or absent, no partial download, temporary, unreferenced blob
// or layer is left, and a second pull and a removal leave the store empty.

#include <filesystem>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "common/failpoint.h"
#include "common/files.h"
#include "common/syscalls.h"
#include "storage/image_db.h"
#include "storage/image_store.h"
#include "tests/integration/storage/crash_child.h"
#include "tests/integration/storage/test_store_options.h"
#include "tests/support/registry_fixture.h"
#include "tests/support/temp_dir.h"

namespace cricket::storage {
namespace {

namespace fs = std::filesystem;
using testing::ChildEnd;
using testing::MatrixRow;

std::vector<std::string> Names(const std::string& dir) {
  auto names = ListDirectory(dir);
  return names.ok() ? *names : std::vector<std::string>{};
}

// What is on disk, read without ImageStore::Open (which would repair it).
struct DiskState {
  std::vector<Image> images;
  std::set<std::string> blobs;         // "sha256:<hex>"
  std::set<std::string> layers;        // "sha256:<hex>", complete layers only
  std::vector<std::string> leftovers;  // ingest files, temporaries
};

Result<DiskState> ReadDisk(const std::string& root) {
  DiskState s;
  CR_ASSIGN_OR_RETURN(auto db, ImageDb::Open(root + "/images.db"));
  CR_ASSIGN_OR_RETURN(s.images, db->List());
  for (const auto& n : Names(root + "/blobs/sha256")) {
    s.blobs.insert("sha256:" + n);
  }
  for (const auto& n : Names(root + "/snapshots/layers")) {
    if (n.rfind(".tmp-", 0) == 0 || !fs::is_directory(root + "/snapshots/layers/" + n + "/fs")) {
      s.leftovers.push_back("snapshots/layers/" + n);
    } else {
      s.layers.insert("sha256:" + n);
    }
  }
  for (const auto& n : Names(root + "/ingest")) {
    s.leftovers.push_back("ingest/" + n);
  }
  return s;
}

// "" when every image is complete and nothing else is on disk; else what is wrong.
std::string CheckClean(const std::string& root) {
  auto s = ReadDisk(root);
  if (!s.ok()) {
    return "read disk: " + s.error().ToString();
  }
  std::set<std::string> used;
  for (const Image& image : s->images) {
    for (const auto& b : image.blobs) {
      if (s->blobs.count(b) == 0) {
        return "image " + image.id + " lacks blob " + b;
      }
      used.insert(b);
    }
    for (const auto& c : ChainIds(image.config.diff_ids)) {
      if (s->layers.count(c) == 0) {
        return "image " + image.id + " lacks layer " + c;
      }
      used.insert(c);
    }
  }
  for (const auto& set : {s->blobs, s->layers}) {
    for (const auto& d : set) {
      if (used.count(d) == 0) {
        return "unreferenced " + d;
      }
    }
  }
  if (!s->leftovers.empty()) {
    return "leftover " + s->leftovers.front();
  }
  return "";
}

size_t ImageCount(const std::string& root) {
  auto s = ReadDisk(root);
  return s.ok() ? s->images.size() : 999;
}

struct Point {
  std::string name;
  bool remove;              // the RemoveImage scenario (else PullImage)
  bool committed_on_error;  // error/enospc fire after the image record is written
};

const std::vector<Point> kPoints = {
    {"image_pull.after_manifest", false, false},    {"content.ingest_write", false, false},
    {"content.before_commit", false, false},        {"content.after_commit", false, false},
    {"snapshot.layer_unpacked", false, false},      {"snapshot.layer_committed", false, false},
    {"image_pull.before_record", false, false},     {"image_pull.after_record", false, true},
    {"image_remove.after_record", true, false},     {"image_gc.after_blobs", true, false},
    {"snapshot.layer_remove_renamed", true, false},
};

class ImageCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = ::cricket::testing::RegistryFixtureEnv();
    if (env_.count("REGISTRY") == 0) {
      GTEST_SKIP() << "needs the registry fixture: run through ctest (hack/test-registry/start)";
    }
    ref_ = env_["REGISTRY"] + "/test/busybox:latest";
  }

  Result<std::unique_ptr<ImageStore>> Open(const std::string& root) {
    ImageStoreOptions options = TestStoreOptions(root);
    return ImageStore::Open(options, sys_);
  }

  // The parent's half of a row: reopen, check, pull again, remove, check empty.
  std::string AfterRestart(const std::string& root, std::string& outcome) {
    auto store = Open(root);
    if (!store.ok()) {
      return "reopen: " + store.error().ToString();
    }
    if (std::string dirty = CheckClean(root); !dirty.empty()) {
      return "after restart: " + dirty;
    }
    auto status = (*store)->Status(ref_);
    if (status.ok()) {
      if (auto lowers = (*store)->snapshotter().LowerDirs(status->chain_id); !lowers.ok()) {
        return "image present but unusable: " + lowers.error().ToString();
      }
      outcome += ", restart: complete";
    } else if (status.error().code() == Code::kNotFound) {
      outcome += ", restart: absent";
    } else {
      return "status: " + status.error().ToString();
    }
    if (auto again = (*store)->Pull(ref_, {}); !again.ok()) {
      return "second pull: " + again.error().ToString();
    }
    if (auto removed = (*store)->Remove(ref_); !removed.ok()) {
      return "remove: " + removed.error().ToString();
    }
    auto s = ReadDisk(root);
    if (!s.ok() || !s->images.empty() || !s->blobs.empty() || !s->layers.empty() ||
        !s->leftovers.empty()) {
      return "not empty after remove: " + CheckClean(root);
    }
    return "";
  }

  MatrixRow RunRow(const Point& point, const std::string& action, int index) {
    MatrixRow row{point.name, action, "", false, ""};
    const std::string root = dir_.Join("row" + std::to_string(index));
    if (point.remove) {
      auto store = Open(root);
      auto pulled = store.ok() ? (*store)->Pull(ref_, {}) : Result<Image>(store.error());
      if (!pulled.ok()) {
        row.why = "setup pull: " + pulled.error().ToString();
        return row;
      }
    }
    std::unique_ptr<ImageStore> store;
    auto op = [&]() -> Result<void> {
      // Enabled after Open, so GC points fire in the removal, not in the start-up reconcile.
      CR_RETURN_IF_ERROR(ConfigureFailPoints(""));
      CR_ASSIGN_OR_RETURN(store, Open(root));
      CR_RETURN_IF_ERROR(ConfigureFailPoints(point.name + "=" + action));
      if (point.remove) {
        return store->Remove(ref_);
      }
      CR_RETURN_IF_ERROR(store->Pull(ref_, {}));
      return Ok();
    };
    auto after_error = [&]() -> std::string {
      if (store == nullptr) {
        return "the store did not open";
      }
      if (point.remove) {
        // CRI: RemoveImage is retried; the retry finishes the removal.
        if (auto retry = store->Remove(ref_); !retry.ok()) {
          return "retried remove: " + retry.error().ToString();
        }
        if (ImageCount(root) != 0) {
          return "image still there after the retried remove";
        }
      } else if (ImageCount(root) != (point.committed_on_error ? 1U : 0U)) {
        return "image record count " + std::to_string(ImageCount(root));
      }
      return CheckClean(root);
    };
    ChildEnd end = testing::RunInChild(point.name + "=" + action, op, after_error);
    const char* failed = point.remove               ? "failed, retry removes"
                         : point.committed_on_error ? "failed after record, complete"
                                                    : "failed clean";
    if (!testing::JudgeChild(end, action, failed, row)) {
      return row;
    }
    row.why = AfterRestart(root, row.outcome);
    row.pass = row.why.empty();
    return row;
  }

  std::map<std::string, std::string> env_;
  std::string ref_;
  LinuxSyscalls sys_;
  ::cricket::testing::TempDir dir_{"imgcrash"};
};

TEST_F(ImageCrashTest, EveryFailPointKillErrorEnospc) {
  std::vector<MatrixRow> rows;
  int index = 0;
  for (const Point& point : kPoints) {
    for (const char* action : {"kill", "error", "enospc"}) {
      rows.push_back(RunRow(point, action, index++));
      fs::remove_all(dir_.Join("row" + std::to_string(index - 1)));
    }
  }
  testing::ReportMatrix("image crash matrix (PullImage / RemoveImage / GC)", rows);
}

// Every fail point of the image group of common/failpoint_names.inc has a row above.
TEST(ImageCrashCoverageTest, EveryImagePointHasARow) {
  std::set<std::string> rows;
  for (const Point& p : kPoints) {
    rows.insert(p.name);
  }
  for (const FailPointInfo& info : AllFailPoints()) {
    const std::string name(info.name);
    if (name.rfind("image_", 0) == 0 || name.rfind("content.", 0) == 0 ||
        name.rfind("snapshot.", 0) == 0) {
      EXPECT_EQ(rows.count(name), 1U) << name << " has no crash-matrix row";
    }
  }
}

}  // namespace
}  // namespace cricket::storage
