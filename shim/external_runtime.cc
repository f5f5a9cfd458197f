// The shim's backend for a runtime handler configured with an external OCI runtime: every call
// runs `<binary> --root R --log L --log-format json <command>` with runc's command line, which
// runc and crun share.

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/subprocess.h"
#include "common/text.h"
#include "oci/cgroup_manager.h"
#include "oci/spec_json.h"
#include "shim/container_runtime.h"

namespace cricket::shim {
namespace {

using namespace std::chrono_literals;

Result<oci::Status> StatusFromName(const std::string& name) {
  for (oci::Status s : {oci::Status::kCreating, oci::Status::kCreated, oci::Status::kRunning,
                        oci::Status::kStopped, oci::Status::kPaused}) {
    if (name == oci::StatusName(s)) {
      return s;
    }
  }
  return Error(Code::kDataLoss, "runtime state: unknown status \"" + name + "\"");
}

Result<void> Done(const Result<SubprocessResult>& ran) {
  return ran.ok() ? Ok() : Result<void>(ran.error());
}

class ExternalRuntime final : public ContainerRuntime {
 public:
  ExternalRuntime(Syscalls& sys, std::string binary, std::string root, std::string work_dir,
                  oci::CgroupInfo cgroups)
      : sys_(sys),
        binary_(std::move(binary)),
        root_(std::move(root)),
        work_dir_(std::move(work_dir)),
        cgroups_(std::move(cgroups)) {}

  Result<pid_t> Create(const std::string& id, const std::string& bundle,
                       const std::string& console_socket) override {
    bundle_ = bundle;
    const std::string pid_file = work_dir_ + "/init.pid";
    std::vector<std::string> args = {"create", "--bundle", bundle, "--pid-file", pid_file};
    if (!console_socket.empty()) {
      args.insert(args.end(), {"--console-socket", console_socket});
    }
    args.push_back(id);
    CR_RETURN_IF_ERROR(Done(Call(args, /*inherit_stdio=*/true)));
    return ReadPid(pid_file);
  }

  Result<void> Start(const std::string& id) override { return Done(Call({"start", id})); }

  Result<oci::ContainerState> State(const std::string& id) override {
    CR_ASSIGN_OR_RETURN(SubprocessResult r, Call({"state", id}));
    auto doc = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object() || !doc["status"].is_string()) {
      return Error(Code::kDataLoss, binary_ + " state " + id + ": unreadable output");
    }
    oci::ContainerState state;
    state.id = id;
    CR_ASSIGN_OR_RETURN(state.status, StatusFromName(doc["status"].get<std::string>()));
    state.pid = doc.value("pid", 0);
    state.bundle = doc.value("bundle", bundle_);
    // The runtime does not tell; the container's memory cgroup does.
    if (auto cgroup = CgroupOf(id, state.bundle); cgroup.ok()) {
      auto oom = (*cgroup)->OomKilled();
      state.oom_killed = oom.ok() && *oom;
    }
    return state;
  }

  Result<std::unique_ptr<oci::CgroupManager>> Cgroup(const std::string& id) override {
    return CgroupOf(id, bundle_);
  }

  Result<void> Kill(const std::string& id, int signal, bool all) override {
    std::vector<std::string> args = {"kill"};
    if (all) {
      args.push_back("--all");
    }
    args.insert(args.end(), {id, std::to_string(signal)});
    auto killed = Done(Call(args));
    if (!killed.ok()) {
      // The container may exit between the caller's check and the kill; runc and crun then fail
      // with "container not running". That is kFailedPrecondition, as from Cricket's runtime
      // (oci::Runtime::Kill), so that a stop does not fail on a process that is already gone.
      auto state = State(id);
      if (state.ok() && state->status == oci::Status::kStopped) {
        return Error(Code::kFailedPrecondition, "container not running: \"" + id + "\" is stopped");
      }
    }
    return killed;
  }

  Result<pid_t> Exec(const std::string& id, const oci::Process& process,
                     const std::string& console_socket) override {
    const std::string tag = std::to_string(++execs_);
    const std::string process_file = work_dir_ + "/exec-" + tag + ".json";
    const std::string pid_file = work_dir_ + "/exec-" + tag + ".pid";
    CR_RETURN_IF_ERROR(WriteFileAtomic(process_file, oci::ProcessToJson(process), 0600,
                                       Durability::kProcessCrash));
    std::vector<std::string> args = {"exec", "--process", process_file, "--pid-file", pid_file,
                                     "--detach"};
    if (!console_socket.empty()) {
      args.insert(args.end(), {"--console-socket", console_socket});
    }
    args.push_back(id);
    auto ran = Call(args, /*inherit_stdio=*/true);
    std::error_code ec;
    std::filesystem::remove(process_file, ec);
    CR_RETURN_IF_ERROR(Done(ran));
    auto pid = ReadPid(pid_file);
    std::filesystem::remove(pid_file, ec);
    return pid;
  }

  Result<void> Delete(const std::string& id, bool force) override {
    std::vector<std::string> args = {"delete"};
    if (force) {
      args.push_back("--force");
    }
    args.push_back(id);
    return Done(Call(args));
  }

  // Written to the cgroup directly, not through `<binary> update`: the runtime's state is not
  // ours to read, but the cgroup is the one the bundle's spec names.
  Result<void> Update(const std::string& id, const oci::Resources& resources) override {
    CR_ASSIGN_OR_RETURN(oci::ContainerState state, State(id));
    CR_ASSIGN_OR_RETURN(auto cgroup, CgroupOf(id, state.bundle));
    return cgroup->Update(resources);
  }

  // runc's own checkpoint and restore (they drive criu themselves).
  Result<void> Checkpoint(const std::string& id, const std::string& image_dir,
                          bool leave_running) override {
    std::vector<std::string> args = {"checkpoint", "--image-path", image_dir};
    if (leave_running) {
      args.emplace_back("--leave-running");
    }
    args.push_back(id);
    return Done(Call(args));
  }
  Result<pid_t> Restore(const std::string& id, const std::string& bundle,
                        const std::string& image_dir) override {
    bundle_ = bundle;
    const std::string pid_file = work_dir_ + "/init.pid";
    CR_RETURN_IF_ERROR(Done(Call({"restore", "--detach", "--image-path", image_dir, "--bundle",
                                  bundle, "--pid-file", pid_file, id},
                                 /*inherit_stdio=*/true)));
    return ReadPid(pid_file);
  }

 private:
  // The container's cgroup, as the spec in its bundle names it.
  Result<std::unique_ptr<oci::CgroupManager>> CgroupOf(const std::string& id,
                                                       const std::string& bundle) {
    CR_ASSIGN_OR_RETURN(oci::Spec spec, oci::LoadSpec(bundle));
    if (!spec.linux) {
      return Error(Code::kFailedPrecondition, bundle + "/config.json: no linux section");
    }
    CR_ASSIGN_OR_RETURN(std::string path, oci::CgroupPathFor(spec.linux->cgroups_path, id));
    return oci::NewCgroupManager(sys_, cgroups_, path);
  }

  // Runs one command; a non-zero exit is an error carrying the runtime's last logged message.
  Result<SubprocessResult> Call(const std::vector<std::string>& args, bool inherit_stdio = false) {
    // cricketd's calls without a shim may find its state dir gone.
    CR_RETURN_IF_ERROR(MakeDirs(work_dir_, 0700));
    const std::string log_file = work_dir_ + "/runtime.log";
    SubprocessOptions options;
    options.inherit_stdio = inherit_stdio;
    options.timeout = 60s;
    CR_ASSIGN_OR_RETURN(SubprocessResult r,
                        RunSubprocess(ExternalRuntimeArgv(binary_, root_, log_file, args), options));
    if (r.exit_code == 0) {
      return r;
    }
    std::string why = LastLoggedError(log_file);
    if (why.empty()) {
      why = !r.err.empty() ? r.err : "exit code " + std::to_string(r.exit_code);
    }
    while (!why.empty() && why.back() == '\n') {
      why.pop_back();
    }
    const Code code = why.find("does not exist") != std::string::npos ||
                              why.find("not found") != std::string::npos
                          ? Code::kNotFound
                          : Code::kInternal;
    return Error(code, binary_ + " " + args.front() + ": " + why);
  }

  static std::string LastLoggedError(const std::string& log_file) {
    std::string last;
    for (const std::string& line : Split(ReadFile(log_file).value_or(""), '\n')) {
      auto doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (doc.is_object() && doc.value("level", "") == "error" && doc["msg"].is_string()) {
        last = doc["msg"].get<std::string>();
      }
    }
    return last;
  }

  static Result<pid_t> ReadPid(const std::string& pid_file) {
    CR_ASSIGN_OR_RETURN(std::string text, ReadFile(pid_file));
    try {
      return static_cast<pid_t>(std::stoi(text));
    } catch (...) {
      return Error(Code::kDataLoss, pid_file + ": not a pid");
    }
  }

  Syscalls& sys_;
  std::string binary_;
  std::string root_;
  std::string work_dir_;
  oci::CgroupInfo cgroups_;
  std::string bundle_;
  int execs_ = 0;
};

}  // namespace

std::vector<std::string> ExternalRuntimeArgv(const std::string& binary, const std::string& root,
                                             const std::string& log_file,
                                             const std::vector<std::string>& args) {
  std::vector<std::string> argv = {binary, "--root", root, "--log", log_file, "--log-format",
                                   "json"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::unique_ptr<ContainerRuntime> NewExternalRuntime(Syscalls& sys, std::string binary,
                                                     std::string root, std::string work_dir,
                                                     oci::CgroupInfo cgroups) {
  return std::make_unique<ExternalRuntime>(sys, std::move(binary), std::move(root),
                                           std::move(work_dir), std::move(cgroups));
}

}  // namespace cricket::shim
