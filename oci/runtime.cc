// Runtime: everything after Create (see runtime.h; Create is in runtime_create.cc).

#include "oci/runtime.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "common/log.h"
#include "oci/cgroup_manager.h"
#include "oci/hooks.h"
#include "oci/proc_stat.h"
#include "oci/spec_json.h"

namespace cricket::oci {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(5);
constexpr auto kExitTimeout = std::chrono::seconds(10);

// True while `pid` is still the process the state recorded (and not a zombie).
bool Alive(const ContainerState& state) {
  if (state.pid <= 0) {
    return false;
  }
  auto stat = ReadProcStat(state.pid);
  if (!stat.ok() || stat->state == 'Z' || stat->state == 'X') {
    return false;
  }
  return state.pid_start_time == 0 || stat->start_time == state.pid_start_time;
}

// poststart and poststop hooks cannot undo anything: the spec has their failures logged and
// the lifecycle go on.
void RunLateHooks(const ContainerState& state, std::vector<Hook> Hooks::*which, const char* field) {
  auto spec = LoadSpec(state.bundle);
  if (!spec.ok()) {
    log::Warn({.ctr = state.id}, "{} not run: {}", field, spec.error().ToString());
    return;
  }
  if (!spec->hooks || ((*spec->hooks).*which).empty()) {
    return;
  }
  if (auto ran = RunHooks((*spec->hooks).*which, field, StateToJson(state)); !ran.ok()) {
    log::Warn({.ctr = state.id}, "{}", ran.error().ToString());
  }
}

// Reaps pid when it is our child; harmless (ECHILD) when it is not. Only Delete reaps: a
// caller that created the container (a shim) waits for its init itself and must not lose the
// exit status to a State call. pid 0 would mean "any child of our process group".
void TryReap(pid_t pid) {
  if (pid > 0) {
    ::waitpid(pid, nullptr, WNOHANG);
  }
}

}  // namespace

Result<void> Runtime::Refresh(ContainerState& state) {
  if (state.status == Status::kCreating && state.pid == 0) {
    return Ok();
  }
  if (!Alive(state)) {
    if (state.status != Status::kStopped) {
      auto cgroup = NewCgroupManager(sys_, cgroups_, state.cgroup_path);
      auto oom = cgroup->OomKilled();
      state.oom_killed = oom.ok() && *oom;
      state.status = Status::kStopped;
      CR_RETURN_IF_ERROR(store_.Save(state));
    }
    return Ok();
  }
  struct stat st {};
  bool waiting = ::stat((store_.Dir(state.id) + "/exec.fifo").c_str(), &st) == 0;
  state.status = waiting ? Status::kCreated : Status::kRunning;
  if (state.status == Status::kRunning &&
      NewCgroupManager(sys_, cgroups_, state.cgroup_path)->Frozen().value_or(false)) {
    state.status = Status::kPaused;
  }
  return Ok();
}

Result<ContainerState> Runtime::State(const std::string& id) {
  CR_ASSIGN_OR_RETURN(ContainerState state, store_.Load(id));
  CR_RETURN_IF_ERROR(Refresh(state));
  return state;
}

Result<void> Runtime::Start(const std::string& id) {
  CR_ASSIGN_OR_RETURN(ContainerState state, State(id));
  if (state.status != Status::kCreated) {
    return Error(Code::kFailedPrecondition, "container \"" + id + "\" is " +
                                                StatusName(state.status) + ", not created");
  }
  std::string fifo = store_.Dir(id) + "/exec.fifo";
  // O_NONBLOCK: ENXIO instead of hanging when the init is gone.
  UniqueFd fd(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (!fd.valid()) {
    return Error::FromErrno(errno, "open " + fifo + " (is the init still waiting?)");
  }
  CR_RETURN_IF_ERROR(sys_.Unlink(fifo));
  CR_ASSIGN_OR_RETURN(size_t sent, sys_.Write(fd.get(), "0"));
  (void)sent;
  state.status = Status::kRunning;
  CR_RETURN_IF_ERROR(store_.Save(state));
  log::Info({.ctr = id}, "container started pid={}", state.pid);
  RunLateHooks(state, &Hooks::poststart, "hooks.poststart");
  return Ok();
}

Result<void> Runtime::Kill(const std::string& id, int signal, bool all) {
  CR_ASSIGN_OR_RETURN(ContainerState state, State(id));
  if (state.status == Status::kStopped || state.pid <= 0) {
    // containerd's runc shim recognises a finished process by "container not running".
    return Error(Code::kFailedPrecondition, "container not running: \"" + id + "\" is stopped");
  }
  if (all) {
    auto cgroup = NewCgroupManager(sys_, cgroups_, state.cgroup_path);
    CR_ASSIGN_OR_RETURN(auto pids, cgroup->Pids());
    for (pid_t pid : pids) {
      (void)sys_.Kill(pid, signal);  // a process may exit meanwhile
    }
  }
  auto sent = sys_.Kill(state.pid, signal);
  if (!sent.ok() && sent.error().sys_errno() == ESRCH) {
    // The init exited (and was reaped) between State and kill. With `all` every process got
    // the signal or is gone, which is what was asked; without it, the container stopped.
    if (all) {
      return Ok();
    }
    return Error(Code::kFailedPrecondition, "container not running: \"" + id + "\" is stopped");
  }
  return sent;
}

Result<void> Runtime::KillAndReap(const ContainerState& state) {
  auto cgroup = NewCgroupManager(sys_, cgroups_, state.cgroup_path);
  auto deadline = std::chrono::steady_clock::now() + kExitTimeout;
  for (;;) {
    if (Alive(state)) {
      (void)sys_.Kill(state.pid, SIGKILL);
    }
    TryReap(state.pid);
    auto pids = cgroup->Pids();
    if (pids.ok()) {
      for (pid_t pid : *pids) {
        (void)sys_.Kill(pid, SIGKILL);
      }
    }
    // A frozen process cannot act on SIGKILL (v1): thaw after the kill is queued.
    if (cgroup->Frozen().value_or(false)) {
      (void)cgroup->Freeze(false);
    }
    bool empty = pids.ok() && pids->empty();
    if (!Alive(state) && empty) {
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return Error(Code::kDeadlineExceeded, "processes of container \"" + state.id + "\" did not exit");
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  // The last exits may still be leaving the cgroup: rmdir says EBUSY until they are gone.
  for (;;) {
    auto removed = cgroup->Destroy();
    if (removed.ok() || std::chrono::steady_clock::now() > deadline) {
      return removed;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

Result<void> Runtime::Delete(const std::string& id, bool force) {
  CR_ASSIGN_OR_RETURN(ContainerState state, State(id));
  if ((state.status == Status::kRunning || state.status == Status::kPaused) && !force) {
    return Error(Code::kFailedPrecondition,
                 "container \"" + id + "\" is running: stop it first or use --force");
  }
  CR_RETURN_IF_ERROR(KillAndReap(state));
  CR_RETURN_IF_ERROR(store_.Remove(id));
  log::Info({.ctr = id}, "container deleted");
  state.status = Status::kStopped;
  RunLateHooks(state, &Hooks::poststop, "hooks.poststop");
  return Ok();
}

Result<std::vector<ContainerState>> Runtime::List() {
  CR_ASSIGN_OR_RETURN(auto ids, store_.List());
  std::vector<ContainerState> out;
  for (const auto& id : ids) {
    auto state = State(id);
    if (state.ok()) {
      out.push_back(std::move(state).value());
    }
  }
  return out;
}

Result<void> Runtime::Pause(const std::string& id) {
  CR_ASSIGN_OR_RETURN(ContainerState state, State(id));
  if (state.status != Status::kRunning) {
    return Error(Code::kFailedPrecondition, "container \"" + id + "\" is " +
                                                StatusName(state.status) + ", not running");
  }
  return NewCgroupManager(sys_, cgroups_, state.cgroup_path)->Freeze(true);
}

Result<void> Runtime::Resume(const std::string& id) {
  CR_ASSIGN_OR_RETURN(ContainerState state, State(id));
  if (state.status != Status::kPaused) {
    return Error(Code::kFailedPrecondition, "container \"" + id + "\" is " +
                                                StatusName(state.status) + ", not paused");
  }
  return NewCgroupManager(sys_, cgroups_, state.cgroup_path)->Freeze(false);
}

Result<void> Runtime::Update(const std::string& id, const Resources& resources) {
  CR_ASSIGN_OR_RETURN(ContainerState state, State(id));
  if (state.status == Status::kStopped) {
    return Error(Code::kFailedPrecondition, "container \"" + id + "\" is stopped");
  }
  if (auto updated = NewCgroupManager(sys_, cgroups_, state.cgroup_path)->Update(resources);
      !updated.ok()) {
    return updated.error().Wrap("update container " + id);
  }
  return Ok();
}

Result<std::vector<std::string>> Runtime::Reconcile() {
  CR_ASSIGN_OR_RETURN(auto ids, store_.List());
  std::vector<std::string> removed;
  for (const auto& id : ids) {
    auto state = store_.Load(id);
    if (!state.ok()) {
      // A state dir without a readable state.json: Reserve ran, the first Save did not.
      log::Warn({.ctr = id}, "removing a container without state: {}", state.error().ToString());
      CR_RETURN_IF_ERROR(store_.Remove(id));
      removed.push_back(id);
      continue;
    }
    if (state->status != Status::kCreating || Alive(*state)) {
      continue;
    }
    CR_RETURN_IF_ERROR(KillAndReap(*state));
    CR_RETURN_IF_ERROR(store_.Remove(id));
    log::Info({.ctr = id}, "removed the leftovers of an interrupted create");
    removed.push_back(id);
  }
  return removed;
}

Result<CgroupStats> Runtime::Stats(const std::string& id) {
  CR_ASSIGN_OR_RETURN(ContainerState state, store_.Load(id));
  return NewCgroupManager(sys_, cgroups_, state.cgroup_path)->Stats();
}

Result<std::vector<pid_t>> Runtime::Processes(const std::string& id) {
  CR_ASSIGN_OR_RETURN(ContainerState state, store_.Load(id));
  return NewCgroupManager(sys_, cgroups_, state.cgroup_path)->Pids();
}

Result<int> Runtime::Wait(pid_t pid) {
  int status = 0;
  for (;;) {
    if (::waitpid(pid, &status, 0) >= 0) {
      break;
    }
    if (errno != EINTR) {
      return Error::FromErrno(errno, "wait for pid " + std::to_string(pid));
    }
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return WEXITSTATUS(status);
}

}  // namespace cricket::oci
