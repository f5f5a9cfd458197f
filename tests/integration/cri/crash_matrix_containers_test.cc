// The crash matrix of containers (issue #14.1), against a real cricketd (root): every fail
// point of CreateContainer, StartContainer, StopContainer, RemoveContainer,
// UpdateContainerResources and cricket-shim, with `kill` and with `error`. Each row:
//   1. the container the operation needs is made by a cricketd without fail points;
//   2. cricketd restarts with CRICKET_FAILPOINTS=<point>=<action> (its shims inherit it) and the
//      operation runs: with `kill` at a cricketd point, cricketd must die of SIGKILL; with
//      `error`, the RPC must fail;
//   3. cricketd restarts without fail points (start-up reconcile runs); the container is either
//      gone or usable (its status answers; a created one starts), and StopContainer +
//      RemoveContainer remove it;
//   4. nothing of it is left: records, shim dirs, bundles, runtime state, snapshots, mounts,
//      cgroups (every hierarchy), processes.
// One pod (its cgroup parent the test's own) serves every row; the table of outcomes is printed.
// The driver is local to this file: the shared one (crash_harness.h) was not there when these
// rows were written.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/cri/pod_fixture.h"

namespace cricket::testing {
namespace {

enum class Op { kCreate, kStart, kStop, kRemove, kUpdate };

struct Row {
  const char* point;
  Op op;
  bool in_shim = false;  // the point is cricket-shim's: cricketd lives on
};

const Row kRows[] = {
    {"container_create.after_record", Op::kCreate},
    {"container_create.after_snapshot", Op::kCreate},
    {"container_create.after_mount", Op::kCreate},
    {"container_create.after_volumes", Op::kCreate},
    {"container_create.after_spec", Op::kCreate},
    {"container_create.after_shim", Op::kCreate},
    {"container_create.before_final_record", Op::kCreate},
    {"container_start.after_shim_start", Op::kStart},
    {"container_stop.before_kill", Op::kStop},
    {"container_stop.after_kill", Op::kStop},
    {"container_remove.after_stop", Op::kRemove},
    {"container_remove.after_detach", Op::kRemove},
    {"container_remove.after_delete", Op::kRemove},
    {"container_remove.after_unmount", Op::kRemove},
    {"container_remove.before_record", Op::kRemove},
    {"container_update.after_cgroup", Op::kUpdate},
    {"shim.before_create", Op::kCreate, true},
    {"shim.after_create", Op::kCreate, true},
    {"shim.after_start", Op::kStart, true},
    {"shim.before_exit_record", Op::kStop, true},
};

const char* OpName(Op op) {
  switch (op) {
    case Op::kCreate:
      return "CreateContainer";
    case Op::kStart:
      return "StartContainer";
    case Op::kStop:
      return "StopContainer";
    case Op::kRemove:
      return "RemoveContainer";
    case Op::kUpdate:
      return "UpdateContainerResources";
  }
  return "?";
}

std::vector<std::string> DirNames(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    out += (out.empty() ? "" : ",") + s;
  }
  return out;
}

class CrashMatrixContainersTest : public PodFixture {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    cgroup_parent_ = "crtest-" + std::to_string(::getpid()) + "-ctrs";
    pod_config_ = PodConfig("crash");
    pod_config_.mutable_linux()->set_cgroup_parent(cgroup_parent_);
    pod_ = RunPod(pod_config_);
    ASSERT_FALSE(pod_.empty());
  }

  void TearDown() override {
    ::unsetenv("CRICKET_FAILPOINTS");
    PodFixture::TearDown();
    // The test's cgroup parent: nobody else removes it.
    for (const auto& mount : CgroupMounts()) {
      ::rmdir((mount + "/" + cgroup_parent_).c_str());
    }
  }

  // Every cgroup hierarchy's mount point (v1 controllers, or the v2 root).
  static std::vector<std::string> CgroupMounts() {
    std::vector<std::string> mounts;
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string id, parent, dev, root, point, opts, f;
      fields >> id >> parent >> dev >> root >> point >> opts;
      while (fields >> f && f != "-") {
      }
      std::string type;
      fields >> type;
      if (type == "cgroup" || type == "cgroup2") {
        mounts.push_back(point);
      }
    }
    return mounts;
  }

  // cricketd, stopped (SIGTERM; containers outlive it) or reaped dead, started again with
  // `failpoints` in its environment (empty: none).
  void Restart(const std::string& failpoints) {
    if (!daemon_reaped_) {
      daemon_->Signal(SIGTERM);
      ASSERT_TRUE(daemon_->WaitExit(30s).has_value());
    }
    daemon_reaped_ = false;
    if (failpoints.empty()) {
      ::unsetenv("CRICKET_FAILPOINTS");
    } else {
      ::setenv("CRICKET_FAILPOINTS", failpoints.c_str(), 1);
    }
    Start();
    ::unsetenv("CRICKET_FAILPOINTS");
  }

  grpc::Status Create(std::string* id) {
    return CreateContainer(pod_, pod_config_, "app", "exec busybox sleep 1000", id);
  }
  grpc::Status Remove(const std::string& id) {
    grpc::ClientContext ctx;
    v1::RemoveContainerRequest req;
    req.set_container_id(id);
    v1::RemoveContainerResponse resp;
    return runtime_->RemoveContainer(&ctx, req, &resp);
  }
  grpc::Status Update(const std::string& id) {
    grpc::ClientContext ctx;
    v1::UpdateContainerResourcesRequest req;
    req.set_container_id(id);
    req.mutable_linux()->set_cpu_shares(512);
    req.mutable_linux()->set_memory_limit_in_bytes(256 << 20);
    v1::UpdateContainerResourcesResponse resp;
    return runtime_->UpdateContainerResources(&ctx, req, &resp);
  }
  // The containers cricketd lists (every one is this test's).
  std::vector<v1::Container> Listed() {
    grpc::ClientContext ctx;
    v1::ListContainersResponse resp;
    EXPECT_TRUE(runtime_->ListContainers(&ctx, {}, &resp).ok());
    return {resp.containers().begin(), resp.containers().end()};
  }

  // What is left of containers after they were all removed; empty when nothing is.
  std::string Leaks() {
    std::vector<std::string> leaks;
    auto expect_only = [&](const std::string& what, const std::string& dir,
                           const std::vector<std::string>& allowed) {
      for (const auto& name : DirNames(dir)) {
        if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
          leaks.push_back(what + " " + dir + "/" + name);
        }
      }
    };
    expect_only("shim dir", state() + "/shims", {pod_.substr(0, 16)});
    expect_only("bundle", state() + "/containers", {});
    expect_only("runtime state", state() + "/runtime", {pod_});
    expect_only("snapshot", root() + "/snapshots/containers", {});
    for (const auto& mount : CgroupMounts()) {
      expect_only("cgroup", mount + "/" + cgroup_parent_, {pod_});
    }
    std::ifstream mounts("/proc/self/mountinfo");
    std::string line;
    while (std::getline(mounts, line)) {
      if (line.find(state() + "/containers/") != std::string::npos) {
        leaks.push_back("mount " + line);
      }
    }
    // Processes: container processes (in the test's cgroup parent, but the infra's) and shims
    // (their command line names the test's state dir), but the infra's shim.
    int shims = 0;
    for (const auto& pid : DirNames("/proc")) {
      if (pid.find_first_not_of("0123456789") != std::string::npos) {
        continue;
      }
      std::string cgroup = ReadFile("/proc/" + pid + "/cgroup").value_or("");
      if (cgroup.find("/" + cgroup_parent_ + "/") != std::string::npos &&
          cgroup.find("/" + cgroup_parent_ + "/" + pod_) == std::string::npos) {
        leaks.push_back("process " + pid + " in " + cgroup_parent_);
      }
      std::string cmdline = ReadFile("/proc/" + pid + "/cmdline").value_or("");
      if (cmdline.find("cricket-shim") != std::string::npos &&
          cmdline.find(state() + "/") != std::string::npos) {
        ++shims;
      }
    }
    if (shims != 1) {
      leaks.push_back(std::to_string(shims) + " shims (only the infra's should run)");
    }
    return Join(leaks);
  }

  // One row; its outcome for the table, with failures recorded.
  std::string RunRow(const Row& row, const std::string& action) {
    SCOPED_TRACE(std::string(row.point) + "=" + action);
    const bool kill = action == "kill";
    // 1. What the operation needs, made without fail points.
    std::string id;
    if (row.op != Op::kCreate) {
      EXPECT_TRUE(Create(&id).ok());
      if (row.op != Op::kStart) {
        EXPECT_TRUE(StartContainer(id).ok());
      }
    }
    // 2. The operation, with the fail point.
    Restart(std::string(row.point) + "=" + action);
    grpc::Status status;
    switch (row.op) {
      case Op::kCreate:
        status = Create(&id);
        break;
      case Op::kStart:
        status = StartContainer(id);
        break;
      case Op::kStop:
        status = Stop(id, 10);
        break;
      case Op::kRemove:
        status = Remove(id);
        break;
      case Op::kUpdate:
        status = Update(id);
        break;
    }
    std::string outcome =
        status.ok() ? "rpc ok"
                    : "rpc failed (" + std::to_string(static_cast<int>(status.error_code())) + ")";
    if (kill && !row.in_shim) {
      auto exit = daemon_->WaitExit(30s);
      daemon_reaped_ = exit.has_value();
      EXPECT_TRUE(exit && WIFSIGNALED(*exit) && WTERMSIG(*exit) == SIGKILL)
          << "cricketd did not die at the point";
      EXPECT_FALSE(status.ok());
      outcome += ", cricketd killed";
    } else if (!row.in_shim) {
      EXPECT_FALSE(status.ok());
      EXPECT_NE(status.error_message().find(row.point), std::string::npos)
          << status.error_message();
    }
    // 3. Restarted without fail points: gone, or usable; removable.
    Restart("");
    auto listed = Listed();
    EXPECT_LE(listed.size(), 1u);
    if (listed.empty()) {
      outcome += "; after restart: gone";
    } else {
      id = listed[0].id();
      v1::ContainerStatus st = Status(id);
      outcome += std::string("; after restart: ") + v1::ContainerState_Name(st.state());
      if (st.state() == v1::CONTAINER_CREATED) {
        EXPECT_TRUE(StartContainer(id).ok()) << "a created container must start";
        outcome += ", started";
      }
      EXPECT_TRUE(Stop(id, 0).ok());
      EXPECT_TRUE(Remove(id).ok());
      EXPECT_TRUE(Listed().empty());
      outcome += ", removed";
    }
    // 4. Nothing left.
    std::string leaks = Leaks();
    EXPECT_EQ(leaks, "");
    outcome += leaks.empty() ? "; no leaks" : "; LEAKS: " + leaks;
    return outcome;
  }

  bool daemon_reaped_ = false;  // daemon_ died and was waited for
  std::string cgroup_parent_;
  v1::PodSandboxConfig pod_config_;
  std::string pod_;
};

TEST_F(CrashMatrixContainersTest, EveryPointWithKillAndError) {
  std::string baseline = Leaks();
  ASSERT_EQ(baseline, "");
  std::vector<std::string> table;
  const char* only = std::getenv("CRICKET_CRASH_ROWS");  // a substring of the points to run
  for (const Row& row : kRows) {
    if (only != nullptr && std::string(row.point).find(only) == std::string::npos) {
      continue;
    }
    for (const char* action : {"kill", "error"}) {
      const bool failed_before = HasFailure();
      std::string outcome = RunRow(row, action);
      char line[512];
      std::snprintf(line, sizeof(line), "%-38s %-5s %-24s %s%s", row.point, action, OpName(row.op),
                    HasFailure() && !failed_before ? "FAIL " : "pass ", outcome.c_str());
      table.push_back(line);
      std::cout << line << std::endl;
    }
  }
  std::cout << "\ncrash matrix, containers (" << table.size() << " rows)\n";
  for (const auto& line : table) {
    std::cout << line << "\n";
  }
}

}  // namespace
}  // namespace cricket::testing
