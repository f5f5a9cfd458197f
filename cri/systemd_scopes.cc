#include "cri/systemd_scopes.h"

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <utility>

#include "common/files.h"
#include "common/log.h"
#include "oci/spec_json.h"

namespace cricket::cri {
namespace {

constexpr const char* kScopeFile = "/systemd-scope";
constexpr const char* kDefaultSlice = "cricket.slice";

// The child's whole life: async-signal-safe syscalls only.
[[noreturn]] void PlaceholderMain(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) {
    ::_exit(0);
  }
  while (true) {
    ::pause();
  }
}

}  // namespace

Result<std::string> PodCgroupParent(const std::string& cgroup_parent, CgroupDriver driver) {
  if (driver != CgroupDriver::kSystemd) {
    return cgroup_parent;
  }
  std::string slice = cgroup_parent.empty() ? kDefaultSlice : cgroup_parent;
  // A slice's systemd path ("/test.slice", what critest sends; "/kubepods.slice/kubepods-
  // burstable.slice/..."): the slice is its last component, as containerd takes it (a slice's
  // name alone fixes its place in the tree).
  while (slice.size() > 1 && slice.back() == '/') {
    slice.pop_back();
  }
  if (size_t last = slice.rfind('/');
      last != std::string::npos && slice.ends_with(".slice") && last + 1 < slice.size()) {
    slice.erase(0, last + 1);
  }
  if (auto expanded = oci::ExpandSlice(slice); !expanded.ok()) {
    return Error(Code::kInvalidArgument,
                 "linux.cgroup_parent: the systemd cgroup driver wants a slice name "
                 "(kubepods-burstable-pod<uid>.slice): " +
                     expanded.error().message());
  }
  return slice;
}

Result<void> CheckSystemdDriverUsable(const std::string& run_systemd_dir) {
  struct stat st {};
  if (::stat(run_systemd_dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return Ok();
  }
  return Error(Code::kFailedPrecondition,
               "cgroup_driver = \"systemd\", but systemd is not PID 1 on this node (no " +
                   run_systemd_dir +
                   "): set cgroup_driver = \"cgroupfs\" (and kubelet's cgroupDriver to match)");
}

Result<Placeholder> Placeholder::Spawn() {
  pid_t parent = ::getpid();
  // fork(2) without glibc's atfork handlers: only the child's own syscalls run before it waits.
  long pid = ::syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) {
    return Error::FromErrno(errno, "clone the systemd scope's placeholder");
  }
  if (pid == 0) {
    PlaceholderMain(parent);
  }
  return Placeholder(static_cast<pid_t>(pid));
}

Placeholder::~Placeholder() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

Result<Placeholder> SystemdScopes::Start(const oci::SystemdCgroup& scope,
                                         const oci::Resources* resources) {
  CR_ASSIGN_OR_RETURN(Placeholder holder, Placeholder::Spawn());
  CR_ASSIGN_OR_RETURN(
      auto properties,
      oci::ScopeProperties(scope, {static_cast<uint32_t>(holder.pid())}, resources, mode_));
  if (auto started = bus_.StartTransientUnit(scope.unit, properties, timeout_); !started.ok()) {
    // A start that timed out may still complete: stop whatever there is.
    (void)bus_.StopUnit(scope.unit, timeout_);
    return started.error().Wrap("systemd scope " + scope.unit + " in " + scope.slice);
  }
  return holder;
}

Result<void> SystemdScopes::Update(const std::string& cgroup_path,
                                   const oci::Resources& resources) {
  auto scope = oci::ScopeOfPath(cgroup_path);
  if (!scope.ok()) {
    return Ok();
  }
  CR_ASSIGN_OR_RETURN(auto properties, oci::ResourceProperties(resources, mode_));
  if (properties.empty()) {
    return Ok();
  }
  return bus_.SetUnitProperties(scope->unit, properties);
}

Result<void> SystemdScopes::UpdateSlice(const std::string& slice,
                                        const oci::Resources& resources) {
  CR_ASSIGN_OR_RETURN(auto properties, oci::ResourceProperties(resources, mode_));
  if (properties.empty()) {
    return Ok();
  }
  if (auto set = bus_.SetUnitProperties(slice, properties); !set.ok()) {
    return set.error().Wrap("systemd slice " + slice);
  }
  return Ok();
}

Result<void> SystemdScopes::Stop(const std::string& cgroup_path) {
  auto scope = oci::ScopeOfPath(cgroup_path);
  if (!scope.ok()) {
    return Ok();
  }
  if (auto stopped = bus_.StopUnit(scope->unit, timeout_); !stopped.ok()) {
    return stopped.error().Wrap("stop systemd scope " + scope->unit);
  }
  return Ok();
}

Result<std::string> RememberedScope(const std::string& shim_dir) {
  return ReadFile(shim_dir + kScopeFile);
}

namespace {

class SystemdConnection final : public ShimConnection {
 public:
  SystemdConnection(std::unique_ptr<ShimConnection> inner, SystemdScopes& scopes,
                    std::string shim_dir)
      : inner_(std::move(inner)), scopes_(scopes), shim_dir_(std::move(shim_dir)) {}

  Result<shim::ShimStatus> Status() override { return inner_->Status(); }
  Result<void> Start() override { return inner_->Start(); }
  Result<void> Kill(int signal, bool all) override { return inner_->Kill(signal, all); }
  Result<int> Wait(std::chrono::milliseconds timeout) override { return inner_->Wait(timeout); }
  Result<void> ReopenLog() override { return inner_->ReopenLog(); }
  Result<void> Resize(int width, int height) override { return inner_->Resize(width, height); }
  Result<shim::ExecSyncResult> ExecSync(const oci::Process& process,
                                        std::chrono::milliseconds timeout) override {
    return inner_->ExecSync(process, timeout);
  }
  Result<shim::ExecHandle> StartExec(const oci::Process& process, int stdin_fd, int stdout_fd,
                                     int stderr_fd) override {
    return inner_->StartExec(process, stdin_fd, stdout_fd, stderr_fd);
  }
  Result<UniqueFd> Attach(int stdin_fd, int stdout_fd, int stderr_fd, bool tty) override {
    return inner_->Attach(stdin_fd, stdout_fd, stderr_fd, tty);
  }
  Result<UniqueFd> Connect() override { return inner_->Connect(); }

  // The shim deletes the container (its init gone, the cgroup removed); then the unit is
  // stopped. A shim that is gone (kUnavailable) may have left the container running: stopping
  // the unit kills what is in it; the caller then deletes the runtime state without the shim.
  Result<void> Delete(bool force) override {
    auto deleted = inner_->Delete(force);
    if (!deleted.ok() && deleted.error().code() != Code::kUnavailable) {
      return deleted;
    }
    auto path = RememberedScope(shim_dir_);
    if (path.ok()) {
      CR_RETURN_IF_ERROR(scopes_.Stop(*path));
    }
    return deleted;
  }

 private:
  std::unique_ptr<ShimConnection> inner_;
  SystemdScopes& scopes_;
  std::string shim_dir_;
};

class SystemdShims final : public ShimAccess {
 public:
  SystemdShims(ShimAccess& inner, SystemdScopes& scopes) : inner_(inner), scopes_(scopes) {}

  Result<void> Launch(const shim::ShimOptions& options,
                      std::chrono::milliseconds timeout) override {
    CR_ASSIGN_OR_RETURN(oci::Spec spec, oci::LoadSpec(options.bundle));
    std::string path = spec.linux ? spec.linux->cgroups_path : "";
    auto scope = oci::ScopeOfPath(path);
    if (!scope.ok()) {
      return inner_.Launch(options, timeout);  // a cgroupfs path (a pod from before the switch)
    }
    // The pids limit waits until the placeholder is gone: TasksMax counts it, and a limit of 1
    // would refuse the init's clone (the runtime too writes pids.max only after the join).
    oci::Resources limits;
    oci::Resources pids;
    if (spec.linux->resources) {
      limits = *spec.linux->resources;
      pids.pids = std::exchange(limits.pids, std::nullopt);
      if (auto max = limits.unified.find("pids.max"); max != limits.unified.end()) {
        pids.unified.insert(limits.unified.extract(max));
      }
    }
    std::optional<Placeholder> holder;
    {
      auto started = scopes_.Start(*scope, spec.linux->resources ? &limits : nullptr);
      if (!started.ok()) {
        return started.error();
      }
      holder.emplace(std::move(*started));
    }
    if (auto launched = inner_.Launch(options, timeout); !launched.ok()) {
      (void)scopes_.Stop(path);
      return launched;
    }
    // The init is in the scope now (the runtime cloned it into the scope's cgroup): the
    // placeholder goes (killed and reaped: no longer counted), then the unit gets its TasksMax.
    // The runtime wrote pids.max already: a unit without TasksMax only risks systemd writing
    // its default back later, not worth failing a running container for.
    holder.reset();
    if (auto limited = scopes_.Update(path, pids); !limited.ok()) {
      log::Warn({.ctr = options.id}, "systemd scope {}: TasksMax not set: {}", scope->unit,
                limited.error().message());
    }
    // Remembered for Delete; Launch made the state dir.
    if (auto saved =
            WriteFileAtomic(options.state_dir + kScopeFile, path, 0600, Durability::kProcessCrash);
        !saved.ok()) {
      log::Warn({.ctr = options.id}, "systemd scope {} not remembered: {}", scope->unit,
                saved.error().message());
    }
    return Ok();
  }

  std::unique_ptr<ShimConnection> Connect(const std::string& shim_dir) override {
    return std::make_unique<SystemdConnection>(inner_.Connect(shim_dir), scopes_, shim_dir);
  }

 private:
  ShimAccess& inner_;
  SystemdScopes& scopes_;
};

}  // namespace

std::unique_ptr<ShimAccess> NewSystemdShims(ShimAccess& inner, SystemdScopes& scopes) {
  return std::make_unique<SystemdShims>(inner, scopes);
}

}  // namespace cricket::cri
