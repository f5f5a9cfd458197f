#pragma once

// The crash-matrix driver of issue #14 (shared by the pod, container and image rows) and its
// leak checker.
//
// A row is one fail point (common/failpoint.h) with one action:
//   kill:  cricketd runs with CRICKET_FAILPOINTS=<point>=kill, the row's RPC must make it die by
//          SIGKILL (otherwise the row fails "not reached"); cricketd is started again without
//          fail points (start-up reconcile runs), the row's check looks at what is left (each
//          object complete and usable, or gone), then everything is removed with the normal
//          RPCs and the leak checker must find nothing that was not there before the row.
//   error: cricketd runs with <point>=error, the row's RPC must fail (otherwise "not reached"),
//          the row's check runs on the same daemon, then the same removal and leak check.
//
// CrashMatrixFixture owns one cricketd root/state, a bridge and a cgroup parent of the test's
// own; rows run one after the other on them. The baseline the leak checker compares with is
// taken in SetUp, after one warm-up pod made the bridge and its long-lived rules.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "runtime/v1/api.grpc.pb.h"
#include "tests/integration/cri/cricketd_fixture.h"
#include "tests/support/cricketd_process.h"

namespace cricket::testing {

enum class CrashAction { kKill, kError };
std::string_view CrashActionName(CrashAction action);  // "kill", "error"

// The names of AllFailPoints() that start with one of `prefixes` (e.g. "sandbox_", "network_"),
// in the order of common/failpoint_names.inc.
std::vector<std::string> FailPointsWithPrefix(const std::vector<std::string_view>& prefixes);

// What belongs to one test: the leak checker looks only there, since other tests run cricketd
// instances on the same machine at the same time.
struct LeakScope {
  std::string root;           // cricketd --root
  std::string state;          // cricketd --state
  std::string bridge;         // the test's bridge (network.bridge)
  std::string cgroup_parent;  // the pods' cgroup parent, e.g. "/crtest-123-crash"
  // More dirs whose entries are objects (e.g. a CNI plugin's lease dir): LeakChecker::WatchDir.
  std::vector<std::string> extra_dirs;
};

// Kernel and disk objects of a scope, each as "<kind> <name>": mounts under root/state, netns
// pins, veths (on the bridge, or named after a known pod), IP leases and host-port claims,
// iptables rules naming the bridge or a known pod, cgroups under the parent (every v1 hierarchy
// and the v2 tree), processes (cmdline under root/state, or in a cgroup under the parent), shim
// and runtime state dirs, sandbox state dirs, snapshot dirs, blobs, ingest files.
class LeakChecker {
 public:
  explicit LeakChecker(LeakScope scope) : scope_(std::move(scope)) {}

  const LeakScope& scope() const { return scope_; }
  // Records what exists now as the baseline.
  void Snapshot();
  // Counts each entry of `dir` as an object from now on (call it before Snapshot).
  void WatchDir(std::string dir) { scope_.extra_dirs.push_back(std::move(dir)); }
  // A pod or container id the test made or saw: its veth and iptables chains are looked for.
  // Ids found in the state dirs, leases and cricketd logs under root/state are added on their own.
  void NoteId(const std::string& id) { ids_.insert(id); }
  // Every object present now and not in the baseline, one line each; empty: no leak.
  // `ignore_pid`: a cricketd still running (its own process is not a leak).
  std::vector<std::string> Leaks(pid_t ignore_pid = 0);
  // Everything the scope holds now (for the baseline and for debugging).
  std::set<std::string> Objects();
  std::set<std::string> ObjectsIgnoring(pid_t ignore_pid);

 private:
  void CollectIds();

  LeakScope scope_;
  std::set<std::string> ids_;
  std::set<std::string> baseline_;
};

// One row of the table.
struct CrashRow {
  std::string point;
  CrashAction action = CrashAction::kKill;
  bool passed = false;
  std::string outcome;  // "ok" or what went wrong
  double seconds = 0;
};

// How a row exercises its fail point. Every step gets the fixture's RuntimeService stub of the
// daemon running at that moment.
struct CrashScenario {
  // Runs first, on the daemon with the fail point enabled; must not reach the point (e.g. makes
  // the pod a StopPodSandbox row stops). "" or what failed.
  std::function<std::string(runtime::v1::RuntimeService::Stub&)> prepare;
  // The call that passes the fail point.
  std::function<grpc::Status(runtime::v1::RuntimeService::Stub&)> rpc;
  // After the crash and restart (kill) or the failed call (error), before the removal: checks
  // that what is left is complete and usable or gone. "" or what is wrong. Optional.
  std::function<std::string(runtime::v1::RuntimeService::Stub&, CrashAction)> check;
  // For error rows: the failed call must have left nothing behind, checked with the leak
  // checker before anything is removed (true for calls that make things, e.g. RunPodSandbox).
  bool error_leaves_nothing = false;
  // The point is in cricketd (true) or in a process it starts, e.g. cricket-shim (false: a kill
  // row then does not wait for cricketd to die, and restarts it after the call returns).
  bool point_in_cricketd = true;
};

class CrashMatrixFixture : public CricketdFixture {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Runs `scenario` with `point`=`action` and returns its row (never asserts: the caller collects
  // rows, prints the table and then expects each passed).
  CrashRow RunRow(const std::string& point, CrashAction action, const CrashScenario& scenario);
  // The table: fail point × action × outcome, with each row's time.
  static void PrintTable(const std::vector<CrashRow>& rows, std::ostream& out);
  // EXPECTs every row passed, naming each failure.
  static void ExpectAllPassed(const std::vector<CrashRow>& rows);
  // The whole matrix of a group: every fail point named with one of `prefixes`, with kill and
  // error (CRICKET_CRASH_ROWS=<regex on "point=action"> runs a subset), each row logged as it
  // ends, then the table, then ExpectAllPassed.
  void RunMatrix(const std::vector<std::string_view>& prefixes,
                 const std::function<CrashScenario(const std::string& point)>& scenario_for);

  // A pod config of the test: its own cgroup parent, log directory under the test dir.
  runtime::v1::PodSandboxConfig PodConfig(const std::string& name);
  // Each pod status check a kill row makes: PodSandboxStatus answers (no DATA_LOSS), a READY pod
  // has an IP (pod network) and a live infra process. "" or what is wrong.
  static std::string CheckPodsUsable(runtime::v1::RuntimeService::Stub& runtime);
  // Stops and removes every pod (its containers with it) and every image not in the baseline,
  // each twice if the first failed. "" or the first error.
  std::string RemoveEverything();

  // Starts cricketd with CRICKET_FAILPOINTS=`failpoints` ("" for none); false (with the reason
  // in `why`) when it does not come up.
  bool StartDaemon(const std::string& failpoints, std::string* why);
  // SIGTERM and wait; SIGKILL after the timeout.
  void StopDaemon();
  runtime::v1::RuntimeService::Stub& runtime() { return *runtime_; }
  runtime::v1::ImageService::Stub& images() { return *images_; }
  LeakChecker& leaks() { return *leaks_; }
  const std::string& cgroup_parent() const { return cgroup_parent_; }

  // Runs on the warm-up daemon before the baseline is taken: what a subclass's rows need and
  // that stays (e.g. pull the test image; RemoveEverything keeps the images listed then).
  // "" or what failed.
  virtual std::string BeforeBaseline() { return ""; }

 private:
  std::string RunSteps(const std::string& point, CrashAction action, const CrashScenario& scenario);
  std::string WarmUp();
  void NoteDaemonIds();

  std::unique_ptr<CricketdProcess> daemon_;
  std::unique_ptr<runtime::v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<runtime::v1::ImageService::Stub> images_;
  std::unique_ptr<LeakChecker> leaks_;
  std::string daemon_failpoints_;  // the running daemon's CRICKET_FAILPOINTS
  std::set<std::string> baseline_images_;
  std::string cgroup_parent_;
  std::string bridge_;
  std::string ip_forward_;
  int starts_ = 0;
  int logs_noted_ = 0;
  std::vector<std::pair<int, int>>
      failed_row_logs_;  // cricketd-<n>.log ranges of failed rows  // cricketd-<n>.log files read
                         // for ids (NoteDaemonIds)
};

}  // namespace cricket::testing
