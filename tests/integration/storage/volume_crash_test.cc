// The portable-volume rows of the crash matrix (issue #14): every fail point of attach,
// snapshot, detach and the operator's release × {kill, error, enospc}, with the local
// coordinator and the dir snapshot store. A forked child runs the operation on node A with the
// point enabled. With error/enospc it must fail with the matching code and leave the volume as
// it was (checked in the child, which then retries the operation). After the child, the parent
// reopens node A (start-up reconcile) and checks the volume is attached (its users and working
// copy intact) or released (lease free, no records), then detaches it and attaches it on node B:
// the data written on A must be there. The etcd coordinator is not run here.

#include <chrono>
#include <filesystem>
#include <set>

#include <gtest/gtest.h>

#include "common/failpoint.h"
#include "common/files.h"
#include "storage/volumes/volume_manager.h"
#include "tests/integration/storage/crash_child.h"
#include "tests/support/temp_dir.h"

namespace cricket::storage {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ChildEnd;
using testing::MatrixRow;

constexpr const char* kVolume = "vol";

template <typename T>
Result<void> Discard(const Result<T>& r) {
  if (!r.ok()) {
    return r.error();
  }
  return Ok();
}

enum class Op { kAttach, kSnapshot, kDetach, kRelease };

struct VolumePoint {
  std::string name;
  Op op;
  bool kill_only;  // after a step that cannot be undone: an error there is only logged
  bool released;   // a kill here must end released (the release was under way)
};

const std::vector<VolumePoint> kVolumePoints = {
    {"volume_attach.after_acquire", Op::kAttach, false, true},
    {"volume_attach.after_restore", Op::kAttach, false, true},
    {"volume_attach.after_record", Op::kAttach, false, false},
    {"volume_snapshot.after_upload", Op::kSnapshot, false, false},
    {"volume_snapshot.after_publish", Op::kSnapshot, false, false},
    {"volume_detach.after_snapshot", Op::kDetach, false, false},
    {"volume_detach.after_intent", Op::kDetach, false, true},
    {"volume_detach.after_release", Op::kDetach, true, true},
    {"volume_release.after_intent", Op::kRelease, false, true},
};

class VolumeCrashTest : public ::testing::Test {
 protected:
  VolumeManagerOptions Options(const std::string& row, const std::string& node) {
    VolumeManagerOptions options;
    options.root = row + "/" + node + "/volumes";
    options.node = node;
    options.coordination = CoordinatorOptions::Local(row + "/coordination");
    options.snapshot_dir = row + "/store";
    options.snapshot_interval = std::chrono::hours(1);  // only the snapshots the rows ask for
    options.keepalive_interval = 50ms;
    return options;
  }

  static std::string Read(const std::string& path) { return ReadFile(path).value_or("<none>"); }

  // "" when nobody holds the volume's lease (a probe takes and returns it).
  static std::string LeaseFree(const std::string& row) {
    auto coordinator = MakeCoordinator(CoordinatorOptions::Local(row + "/coordination"));
    if (!coordinator.ok()) {
      return coordinator.error().ToString();
    }
    auto lease = (*coordinator)->Acquire(kVolume, "probe");
    if (!lease.ok()) {
      return "lease not free: " + lease.error().ToString();
    }
    (void)(*coordinator)->Release(*lease);
    return "";
  }

  // "" when node `node` has no record of the volume left.
  static std::string NoRecords(const std::string& root) {
    auto names = ListDirectory(root + "/attachments");
    if (names.ok() && !names->empty()) {
      return "record left: attachments/" + names->front();
    }
    return "";
  }

  // "" when `m` has the volume attached for exactly ctr `ctr` with `content` in file f.
  std::string AttachedAs(VolumeManager& m, const std::string& ctr, const std::string& content) {
    auto attached = m.Attached();
    if (attached.size() != 1 || attached[0].users.size() != 1 ||
        attached[0].users.count(ctr) != 1) {
      return "not attached for " + ctr;
    }
    if (Read(m.DataPath(kVolume) + "/f") != content) {
      return "working copy lost: f = " + Read(m.DataPath(kVolume) + "/f");
    }
    return "";
  }

  // Setup of a row: a head with f = v1 published; for every operation but attach, the volume
  // then attached on A for c1 with f = v2 (and, for snapshot, f = v3 unpublished).
  std::string Setup(const std::string& row, Op op) {
    auto a = VolumeManager::Open(Options(row, "node-a"));
    if (!a.ok()) {
      return a.error().ToString();
    }
    auto path = (*a)->Attach(kVolume, "pod0", "c0");
    if (!path.ok()) {
      return path.error().ToString();
    }
    (void)WriteFileAtomic(*path + "/f", "v1", 0644);
    if (auto d = (*a)->Detach(kVolume, "c0"); !d.ok()) {
      return d.error().ToString();
    }
    if (op == Op::kAttach) {
      return "";
    }
    path = (*a)->Attach(kVolume, "pod1", "c1");
    if (!path.ok()) {
      return path.error().ToString();
    }
    (void)WriteFileAtomic(*path + "/f", op == Op::kSnapshot ? "v3" : "v2", 0644);
    return "";  // closing keeps the attachment: the child resumes it
  }

  static std::string Expected(Op op) {
    return op == Op::kAttach ? "v1" : op == Op::kSnapshot ? "v3" : "v2";
  }

  static Result<void> RunOp(VolumeManager& m, Op op) {
    switch (op) {
      case Op::kAttach:
        return Discard(m.Attach(kVolume, "pod1", "c1"));
      case Op::kSnapshot:
        return Discard(m.SnapshotNow(kVolume));
      case Op::kDetach:
        return m.Detach(kVolume, "c1");
      case Op::kRelease:
        return m.Release(kVolume);
    }
    return Ok();
  }

  // In the child, after the operation failed: nothing changed, and a retry works.
  std::string AfterError(VolumeManager& m, const std::string& row, Op op) {
    const std::string root = row + "/node-a/volumes";
    if (op == Op::kAttach) {
      if (!m.Attached().empty()) {
        return "attached after a failed attach";
      }
      if (auto r = NoRecords(root); !r.empty()) {
        return r;
      }
      return LeaseFree(row);
    }
    if (auto r = AttachedAs(m, "c1", Expected(op)); !r.empty()) {
      return "after the failure: " + r;
    }
    if (fs::exists(root + "/attachments/" + std::string(kVolume) + ".releasing")) {
      return "releasing marker left";
    }
    if (auto retry = RunOp(m, op); !retry.ok()) {
      return "retry: " + retry.error().ToString();
    }
    return "";
  }

  // The parent after the child: reopen A, check, finish, and read the data on node B.
  std::string AfterRestart(const std::string& row, Op op, std::string& outcome) {
    const std::string root = row + "/node-a/volumes";
    {
      auto a = VolumeManager::Open(Options(row, "node-a"));
      if (!a.ok()) {
        return "reopen: " + a.error().ToString();
      }
      if (!(*a)->Attached().empty()) {
        outcome += ", restart: attached";
        if (auto r = AttachedAs(**a, "c1", Expected(op)); !r.empty()) {
          return r;
        }
        if (op == Op::kSnapshot) {
          // A head we published is the head we record.
          auto coordinator = MakeCoordinator(CoordinatorOptions::Local(row + "/coordination"));
          auto head = (*coordinator)->ReadHead(kVolume);
          auto attached = (*a)->Attached();
          if (head.ok() && head->has_value() && (*head)->token == attached[0].lease.token &&
              (*head)->manifest_digest != attached[0].head) {
            return "published head " + (*head)->manifest_digest + " not recorded";
          }
        }
        if (auto d = (*a)->Detach(kVolume, "c1"); !d.ok()) {
          return "detach: " + d.error().ToString();
        }
      } else {
        outcome += ", restart: released";
        if (op == Op::kSnapshot) {
          return "a snapshot detached the volume";
        }
        if (auto r = NoRecords(root); !r.empty()) {
          return r;
        }
        if (auto r = LeaseFree(row); !r.empty()) {
          return r;
        }
      }
    }
    if (op == Op::kAttach) {
      // The attach the crash cut short works now, on the data published before.
      auto a = VolumeManager::Open(Options(row, "node-a"));
      auto path = a.ok() ? (*a)->Attach(kVolume, "pod1", "c1") : Result<std::string>(a.error());
      if (!path.ok()) {
        return "attach again: " + path.error().ToString();
      }
      if (Read(*path + "/f") != "v1") {
        return "data lost on attach again: f = " + Read(*path + "/f");
      }
      if (auto d = (*a)->Detach(kVolume, "c1"); !d.ok()) {
        return "detach: " + d.error().ToString();
      }
    }
    auto b = VolumeManager::Open(Options(row, "node-b"));
    if (!b.ok()) {
      return "open node b: " + b.error().ToString();
    }
    auto path = (*b)->Attach(kVolume, "podb", "cb");
    if (!path.ok()) {
      return "attach on node b: " + path.error().ToString();
    }
    if (Read(*path + "/f") != Expected(op)) {
      return "data lost: node b reads f = " + Read(*path + "/f");
    }
    return "";
  }

  MatrixRow RunRow(const VolumePoint& point, const std::string& action, int index) {
    MatrixRow row{point.name, action, "", false, ""};
    const std::string dir = dir_.Join("row" + std::to_string(index));
    if (std::string failed = Setup(dir, point.op); !failed.empty()) {
      row.why = "setup: " + failed;
      return row;
    }
    std::unique_ptr<VolumeManager> m;
    auto op = [&]() -> Result<void> {
      CR_ASSIGN_OR_RETURN(m, VolumeManager::Open(Options(dir, "node-a")));
      return RunOp(*m, point.op);
    };
    auto after_error = [&]() -> std::string {
      return m ? AfterError(*m, dir, point.op) : "node a did not open";
    };
    ChildEnd end = testing::RunInChild(point.name + "=" + action, op, after_error);
    if (!testing::JudgeChild(end, action, "failed, unchanged, retry works", row)) {
      return row;
    }
    row.why = AfterRestart(dir, point.op, row.outcome);
    if (row.why.empty() && action == std::string("kill") && point.released &&
        row.outcome.find("released") == std::string::npos) {
      row.why = "an attach or release cut short must end released";
    }
    row.pass = row.why.empty();
    return row;
  }

  ::cricket::testing::TempDir dir_{"volcrash"};
};

TEST_F(VolumeCrashTest, EveryFailPointKillErrorEnospc) {
  std::vector<MatrixRow> rows;
  int index = 0;
  for (const VolumePoint& point : kVolumePoints) {
    for (const char* action : {"kill", "error", "enospc"}) {
      if (point.kill_only && std::string(action) != "kill") {
        continue;
      }
      rows.push_back(RunRow(point, action, index++));
    }
  }
  testing::ReportMatrix("portable volume crash matrix (attach / snapshot / detach / release)",
                        rows);
}

TEST(VolumeCrashCoverageTest, EveryVolumePointHasARow) {
  std::set<std::string> rows;
  for (const VolumePoint& p : kVolumePoints) {
    rows.insert(p.name);
  }
  for (const FailPointInfo& info : AllFailPoints()) {
    const std::string name(info.name);
    if (name.rfind("volume_", 0) == 0) {
      EXPECT_EQ(rows.count(name), 1U) << name << " has no crash-matrix row";
    }
  }
}

}  // namespace
}  // namespace cricket::storage
