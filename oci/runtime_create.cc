// Runtime::Create: spec -> cgroup -> clone -> the init waiting for `start` (see runtime.h).

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/files.h"
#include "common/log.h"
#include "oci/bundle.h"
#include "oci/cgroup_manager.h"
#include "oci/console_socket.h"
#include "oci/hooks.h"
#include "oci/idmap_mount.h"
#include "oci/child_launch.h"
#include "oci/proc_stat.h"
#include "oci/runtime.h"
#include "oci/spec_json.h"
#include "oci/spec_validate.h"

namespace cricket::oci {
namespace {

Result<void> WriteIdMap(pid_t pid, const char* file, const std::vector<IdMapping>& mappings) {
  if (mappings.empty()) {
    return Ok();
  }
  std::string text;
  for (const auto& m : mappings) {
    text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
            std::to_string(m.size) + "\n";
  }
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (!fd.valid() || ::write(fd.get(), text.data(), text.size()) < 0) {
    return Error::FromErrno(errno, "write " + path);
  }
  return Ok();
}

// The kernel refuses to lower oom_score_adj without CAP_SYS_RESOURCE; a container still runs
// with the value it inherited, so this only warns.
void SetOomScoreAdj(pid_t pid, const std::optional<int>& value, const std::string& id) {
  if (!value) {
    return;
  }
  std::string path = "/proc/" + std::to_string(pid) + "/oom_score_adj";
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  std::string text = std::to_string(*value);
  if (!fd.valid() || ::write(fd.get(), text.data(), text.size()) < 0) {
    log::Warn({.ctr = id}, "oomScoreAdj {} not applied: {}", *value, std::strerror(errno));
  }
}

Result<UniqueFd> MakeExecFifo(const std::string& dir) {
  std::string fifo = dir + "/exec.fifo";
  if (::mkfifo(fifo.c_str(), 0600) < 0) {
    return Error::FromErrno(errno, "mkfifo " + fifo);
  }
  // O_NONBLOCK: open succeeds without a writer (see child_init.cc WaitForStart).
  UniqueFd fd(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (!fd.valid()) {
    return Error::FromErrno(errno, "open " + fifo);
  }
  return fd;
}

// One pipe per in-container hook: the init hands the read end to the hook as its stdin, the
// parent writes the state into the write end once it knows the init's pid (FillHookStates).
Result<void> OpenHookStatePipes(ChildPlan& plan) {
  for (HookStep& h : plan.hooks) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) {
      return Error::FromErrno(errno, "pipe for " + h.field);
    }
    plan.owned_fds.push_back(fds[0]);
    h.stdin_fd = fds[0];
    h.state_write_fd = fds[1];
    // A state larger than the pipe fails create instead of blocking it.
    ::fcntl(fds[1], F_SETFL, O_NONBLOCK);  // NOLINT(cppcoreguidelines-pro-type-vararg)
  }
  return Ok();
}

// createContainer hooks see the state "creating", startContainer hooks "created" (runc's
// choice), both with the init's pid.
Result<void> FillHookStates(ChildPlan& plan, ContainerState state, pid_t pid) {
  state.pid = pid;
  for (HookStep& h : plan.hooks) {
    state.status = h.start_container ? Status::kCreated : Status::kCreating;
    std::string json = StateToJson(state);
    ssize_t n = ::write(h.state_write_fd, json.data(), json.size());
    if (n != static_cast<ssize_t>(json.size())) {
      return Error::FromErrno(n < 0 ? errno : EMSGSIZE, "write the state for " + h.field);
    }
    ::close(h.state_write_fd);
    h.state_write_fd = -1;
  }
  return Ok();
}

// See ChildPlan::rootfs_parent_fd.
void SetRootfsParent(ChildPlan& plan) {
  if (!plan.new_user_ns || !plan.setup_rootfs) {
    return;
  }
  const std::filesystem::path rootfs(plan.rootfs);
  plan.rootfs_parent = rootfs.parent_path().string();
  plan.rootfs_name = rootfs.filename().string();
}

bool HasPidsLimit(const Resources& r) { return r.pids || r.unified.contains("pids.max"); }

// `r` without its pids limit into `rest`; the limit alone is returned.
Resources SplitPidsLimit(const Resources& r, Resources& rest) {
  rest = r;
  Resources pids;
  pids.pids = std::exchange(rest.pids, std::nullopt);
  if (auto it = rest.unified.find("pids.max"); it != rest.unified.end()) {
    pids.unified.insert(rest.unified.extract(it));
  }
  return pids;
}

// Clones the init into its cgroup and namespaces and waits until it is ready for `start`. The
// runtime's own hooks (prestart, createRuntime) run while the init waits before pivot_root.
Result<pid_t> LaunchInit(const Spec& spec, const CreateOptions& options, const CgroupInfo& cgroups,
                         CgroupManager& cgroup, int start_fd, const ContainerState& state) {
  const std::string& id = state.id;
  const Linux empty_linux;
  const Linux& l = spec.linux ? *spec.linux : empty_linux;
  CR_ASSIGN_OR_RETURN(UniqueFd console, ConsoleFor(spec.process->terminal, options.console_socket, options.console_fd));
  CR_ASSIGN_OR_RETURN(ChildPlan plan, BuildChildPlan({spec, &cgroups, 0}));
  auto close_ns = Cleanup([&] { CloseOwnedFds(plan); });
  plan.start_fd = start_fd;
  plan.console_fd = console.valid() ? console.get() : -1;
  ApplyStdio(options.stdio, plan);
  plan.no_pivot = options.no_pivot;
  // A child in a new user namespace loses its host identity once it becomes root there, so the
  // runtime moves it; otherwise it moves itself, cheaply (see SelfJoinFiles).
  if (!plan.new_user_ns) {
    plan.cgroup_join_files = cgroup.SelfJoinFiles();
  }
  CR_ASSIGN_OR_RETURN(UniqueFd cgroup_fd, cgroup.OpenForClone());
  plan.clone_cgroup_fd = cgroup_fd.get();
  plan.start_now = options.start_now;
  CR_RETURN_IF_ERROR(OpenHookStatePipes(plan));
  CR_RETURN_IF_ERROR(PrepareIdmappedMounts(plan));
  SetRootfsParent(plan);
  plan.wait_for_parent = plan.new_user_ns || spec.process->oom_score_adj.has_value() ||
                         (plan.cgroup_join_files.empty() && plan.clone_cgroup_fd < 0) ||
                         !plan.hooks.empty() || plan.pause_for_runtime_hooks;
  pid_t init_pid = 0;
  auto runtime_hooks = [&]() -> Result<void> {
    ContainerState creating = state;
    creating.pid = init_pid;
    auto stat = ReadProcStat(init_pid);
    creating.pid_start_time = stat.ok() ? stat->start_time : 0;
    CR_RETURN_IF_ERROR(RunHooks(spec.hooks->prestart, "hooks.prestart", StateToJson(creating)));
    return RunHooks(spec.hooks->create_runtime, "hooks.createRuntime", StateToJson(creating));
  };
  return LaunchChild(plan, [&](pid_t child) -> Result<void> {
    init_pid = child;
    CR_RETURN_IF_ERROR(FillHookStates(plan, state, child));
    console.Reset();
    if (plan.new_user_ns) {
      CR_RETURN_IF_ERROR(WriteIdMap(child, "uid_map", l.uid_mappings));
      CR_RETURN_IF_ERROR(WriteIdMap(child, "gid_map", l.gid_mappings));
    }
    if (plan.cgroup_join_files.empty() && !plan.cgroup_joined_by_clone) {
      if (auto added = cgroup.AddProcess(child); !added.ok()) {
        return added.error().Wrap("move init into cgroup " + cgroup.path());
      }
    }
    SetOomScoreAdj(child, spec.process->oom_score_adj, id);
    return Ok();
  }, runtime_hooks);
}

}  // namespace

Result<ContainerState> Runtime::NewState(const std::string& id, const std::string& bundle,
                                         const Spec& spec) const {
  ContainerState state;
  state.oci_version = kOciVersion;
  state.id = id;
  state.bundle = bundle;
  state.rootfs = spec.root->path;
  state.created = Rfc3339Utc(NowUnixNanos());
  state.annotations = spec.annotations;
  CR_ASSIGN_OR_RETURN(state.cgroup_path,
                      CgroupPathFor(spec.linux ? spec.linux->cgroups_path : "", id, cgroups_));
  return state;
}

Result<ContainerState> Runtime::Create(const std::string& id, const CreateOptions& options) {
  CR_RETURN_IF_ERROR(store_.Reserve(id));
  auto remove_dir = Cleanup([&] { (void)store_.Remove(id); });
  CR_ASSIGN_OR_RETURN(std::string bundle, AbsoluteDir(options.bundle));
  CR_ASSIGN_OR_RETURN(Spec spec, LoadBundle(bundle));
  if (options.start_now && spec.hooks) {
    return Error(Code::kInvalidArgument, "hooks: need a separate create and start");
  }

  CR_ASSIGN_OR_RETURN(ContainerState state, NewState(id, bundle, spec));
  // Intent first: a crash from here on leaves a state dir that names the cgroup to remove.
  CR_RETURN_IF_ERROR(store_.Save(state));

  auto cgroup = NewCgroupManager(sys_, cgroups_, state.cgroup_path);
  const Resources* resources =
      spec.linux && spec.linux->resources ? &*spec.linux->resources : nullptr;
  // A cgroup that holds processes already (a delegated systemd scope, started by cricketd
  // around a placeholder process): a pids limit written now counts the placeholder, and a limit
  // of 1 would refuse the init's clone. It goes in once the init has joined (runc's order:
  // limits after the join); a limit below the current count is allowed, only forks are refused.
  Resources early;
  std::optional<Resources> late;
  if (resources != nullptr && HasPidsLimit(*resources)) {
    auto present = cgroup->Pids();
    if (present.ok() && !present->empty()) {
      late = SplitPidsLimit(*resources, early);
      resources = &early;
    }
  }
  if (auto made = cgroup->Create(resources); !made.ok()) {
    return made.error().Wrap("create cgroup " + state.cgroup_path);
  }
  auto remove_cgroup = Cleanup([&] { (void)cgroup->Destroy(); });
  UniqueFd start_fd;
  if (!options.start_now) {
    CR_ASSIGN_OR_RETURN(start_fd, MakeExecFifo(store_.Dir(id)));
  }
  CR_ASSIGN_OR_RETURN(state.pid, LaunchInit(spec, options, cgroups_, *cgroup, start_fd.get(), state));
  auto kill_init = Cleanup([pid = state.pid] {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  });
  if (late) {
    if (auto limited = cgroup->Update(*late); !limited.ok()) {
      return limited.error().Wrap("pids limit of cgroup " + state.cgroup_path);
    }
  }
  auto stat = ReadProcStat(state.pid);
  state.pid_start_time = stat.ok() ? stat->start_time : 0;
  state.status = options.start_now ? Status::kRunning : Status::kCreated;
  CR_RETURN_IF_ERROR(store_.Save(state));
  kill_init.Dismiss();
  remove_cgroup.Dismiss();
  remove_dir.Dismiss();
  log::Info({.ctr = id}, "container created pid={}", state.pid);
  return state;
}

}  // namespace cricket::oci
