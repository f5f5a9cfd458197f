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
#include <ctime>

#include "common/cleanup.h"
#include "common/files.h"
#include "common/log.h"
#include "oci/cgroup_manager.h"
#include "oci/child_init.h"
#include "oci/proc_stat.h"
#include "oci/runtime.h"
#include "oci/spec_json.h"
#include "oci/spec_validate.h"

namespace cricket::oci {
namespace {

std::string NowRfc3339() {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<std::string> AbsoluteDir(const std::string& dir) {
  char resolved[PATH_MAX];
  if (::realpath(dir.c_str(), resolved) == nullptr) {
    return Error::FromErrno(errno, "bundle " + dir);
  }
  return std::string(resolved);
}

Result<Spec> LoadBundleSpec(const std::string& bundle) {
  CR_ASSIGN_OR_RETURN(Spec spec, LoadSpec(bundle));
  ResolveRootPath(spec, bundle);
  CR_RETURN_IF_ERROR(ValidateSpec(spec));
  struct stat st {};
  if (::stat(spec.root->path.c_str(), &st) < 0) {
    return Error::FromErrno(errno, "root.path " + spec.root->path);
  }
  if (!S_ISDIR(st.st_mode)) {
    return Error(Code::kInvalidArgument, "root.path: " + spec.root->path + " is not a directory");
  }
  return spec;
}

Result<UniqueFd> ConnectConsoleSocket(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "socket for the console");
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return Error(Code::kInvalidArgument, "console socket path too long: " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
    return Error::FromErrno(errno, "connect console socket " + path);
  }
  return fd;
}

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

// Clones the init with the plan's namespaces. A pid namespace given by path is entered here,
// around the clone, since setns(2) on a pid namespace only affects later children.
Result<pid_t> CloneInit(ChildPlan& plan, int sync_write, int report_read) {
  UniqueFd own_pidns;
  for (const auto& join : plan.joins) {
    if (join.clone_flag == CLONE_NEWPID) {
      own_pidns.Reset(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
      if (!own_pidns.valid() || ::setns(join.fd, CLONE_NEWPID) < 0) {
        return Error::FromErrno(errno, "join pid namespace " + join.path);
      }
    }
  }
  long pid = ::syscall(SYS_clone, static_cast<unsigned long>(plan.clone_flags) | SIGCHLD, nullptr,
                       nullptr, nullptr, nullptr);
  if (pid == 0) {
    ::close(sync_write);
    ::close(report_read);
    RunChild(plan);
  }
  int clone_errno = errno;
  if (own_pidns.valid() && ::setns(own_pidns.get(), CLONE_NEWPID) < 0) {
    log::Warn({}, "could not return to the runtime's pid namespace: {}", std::strerror(errno));
  }
  if (pid < 0) {
    return Error::FromErrno(clone_errno, "clone the container init");
  }
  return static_cast<pid_t>(pid);
}

Error DescribeEarlyExit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) {
    return Error(Code::kInternal, "container init was killed by signal " +
                                      std::to_string(WTERMSIG(status)) + " before it was ready");
  }
  return Error(Code::kInternal, "container init exited with status " +
                                    std::to_string(WEXITSTATUS(status)) + " before it was ready");
}

}  // namespace

Result<ContainerState> Runtime::Create(const std::string& id, const CreateOptions& options) {
  CR_RETURN_IF_ERROR(store_.Reserve(id));
  auto remove_dir = Cleanup([&] { (void)store_.Remove(id); });
  CR_ASSIGN_OR_RETURN(std::string bundle, AbsoluteDir(options.bundle));
  CR_ASSIGN_OR_RETURN(Spec spec, LoadBundleSpec(bundle));
  const Linux empty_linux;
  const Linux& l = spec.linux ? *spec.linux : empty_linux;

  ContainerState state;
  state.oci_version = kOciVersion;
  state.id = id;
  state.bundle = bundle;
  state.rootfs = spec.root->path;
  state.created = NowRfc3339();
  state.annotations = spec.annotations;
  CR_ASSIGN_OR_RETURN(state.cgroup_path, CgroupPathFor(l.cgroups_path, id));
  // Intent first: a crash from here on leaves a state dir that names the cgroup to remove.
  CR_RETURN_IF_ERROR(store_.Save(state));

  auto cgroup = NewCgroupManager(sys_, cgroups_, state.cgroup_path);
  if (auto made = cgroup->Create(l.resources ? &*l.resources : nullptr); !made.ok()) {
    return made.error().Wrap("create cgroup " + state.cgroup_path);
  }
  auto remove_cgroup = Cleanup([&] { (void)cgroup->Destroy(); });

  std::string fifo = store_.Dir(id) + "/exec.fifo";
  if (::mkfifo(fifo.c_str(), 0600) < 0) {
    return Error::FromErrno(errno, "mkfifo " + fifo);
  }
  UniqueFd start_fd(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (!start_fd.valid()) {
    return Error::FromErrno(errno, "open " + fifo);
  }
  UniqueFd console;
  if (spec.process->terminal) {
    if (options.console_socket.empty()) {
      return Error(Code::kInvalidArgument, "process.terminal: needs a console socket (--console-socket)");
    }
    CR_ASSIGN_OR_RETURN(console, ConnectConsoleSocket(options.console_socket));
  }

  CR_ASSIGN_OR_RETURN(ChildPlan plan, BuildChildPlan({spec, &cgroups_, state.cgroup_path}));
  auto close_ns = Cleanup([&] { CloseOwnedFds(plan); });
  int sync_pipe[2];
  int report_pipe[2];
  if (::pipe2(sync_pipe, O_CLOEXEC) < 0) {
    return Error::FromErrno(errno, "pipe");
  }
  UniqueFd sync_read(sync_pipe[0]);
  UniqueFd sync_write(sync_pipe[1]);
  if (::pipe2(report_pipe, O_CLOEXEC) < 0) {
    return Error::FromErrno(errno, "pipe");
  }
  UniqueFd report_read(report_pipe[0]);
  UniqueFd report_write(report_pipe[1]);
  plan.sync_fd = sync_read.get();
  plan.report_fd = report_write.get();
  plan.start_fd = start_fd.get();
  plan.console_fd = console.valid() ? console.get() : -1;
  PrepareExecPointers(plan);

  CR_ASSIGN_OR_RETURN(pid_t pid, CloneInit(plan, sync_write.get(), report_read.get()));
  sync_read.Reset();
  report_write.Reset();
  console.Reset();
  auto kill_init = Cleanup([pid] {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  });

  if (plan.new_user_ns) {
    CR_RETURN_IF_ERROR(WriteIdMap(pid, "uid_map", l.uid_mappings));
    CR_RETURN_IF_ERROR(WriteIdMap(pid, "gid_map", l.gid_mappings));
  }
  if (auto added = cgroup->AddProcess(pid); !added.ok()) {
    return added.error().Wrap("move init into cgroup " + state.cgroup_path);
  }
  SetOomScoreAdj(pid, spec.process->oom_score_adj, id);
  CR_ASSIGN_OR_RETURN(size_t sent, sys_.Write(sync_write.get(), "1"));
  (void)sent;

  ChildReport report;
  ssize_t n = 0;
  do {
    n = ::read(report_read.get(), &report, sizeof(report));
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof(report))) {
    kill_init.Dismiss();
    return DescribeEarlyExit(pid);
  }
  if (report.step != ChildStep::kReady) {
    return RenderChildError(plan, report);
  }

  state.pid = pid;
  state.status = Status::kCreated;
  auto stat = ReadProcStat(pid);
  state.pid_start_time = stat.ok() ? stat->start_time : 0;
  CR_RETURN_IF_ERROR(store_.Save(state));
  kill_init.Dismiss();
  remove_cgroup.Dismiss();
  remove_dir.Dismiss();
  log::Info({.ctr = id}, "container created pid={}", pid);
  return state;
}

}  // namespace cricket::oci
