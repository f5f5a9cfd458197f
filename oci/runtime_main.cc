// cricket-runtime: the runc-compatible command line over oci/ (issue #8).
//
//   cricket-runtime [--root DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND ...
//   create|run [--bundle DIR] [--pid-file F] [--console-socket S] [--detach] ID
//   start ID | state ID | kill [--all] ID [SIGNAL] | delete [--force] ID
//   list [--format table|json] [--quiet] | ps [--format table|json] ID | spec [--bundle DIR]
//   exec [--process FILE | ID CMD...] [--detach] [--pid-file F] [--console-socket S] ID
//   update --resources FILE|- ID | events --stats ID | pause ID | resume ID

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "common/log.h"
#include "common/syscalls.h"
#include "common/unique_fd.h"
#include "oci/cgroup_detect.h"
#include "oci/cli_args.h"
#include "oci/cli_commands.h"
#include "oci/cli_reexec.h"
#include "oci/runtime.h"
#include "oci/spec.h"

namespace cricket::oci::cli {
namespace {

const std::vector<FlagSpec> kGlobalFlags = {
    {"root", 0, true},          {"log", 0, true},      {"log-format", 0, true},
    {"debug", 0, false},        {"systemd-cgroup", 0, false}, {"rootless", 0, true},
    {"criu", 0, true},          {"version", 'v', false}, {"help", 'h', false},
};

using Command = Result<int> (*)(Context&);

Command Lookup(const std::string& name) {
  struct Entry {
    const char* name;
    Command fn;
  };
  static constexpr Entry kCommands[] = {
      {"create", Create}, {"start", Start}, {"state", State}, {"kill", Kill},
      {"delete", Delete}, {"run", Run},     {"list", List},   {"spec", Spec},
      {"exec", Exec},     {"ps", Ps},       {"update", Update}, {"events", Events},
      {"pause", Pause},   {"resume", Resume}, {"checkpoint", Checkpoint}, {"restore", Restore},
  };
  for (const auto& e : kCommands) {
    if (name == e.name) {
      return e.fn;
    }
  }
  return nullptr;
}

// runc's callers (containerd's shim) read the last error from --log, in --log-format.
void LogError(const ParsedArgs& global, const Error& error) {
  std::fprintf(stderr, "cricket-runtime: %s\n", error.message().c_str());
  std::string path = global.Get("log");
  if (path.empty()) {
    return;
  }
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (!fd.valid()) {
    return;
  }
  auto format = log::ParseFormat(global.Get("log-format", "text")).value_or(log::Format::kText);
  std::string line = log::Render(format, log::Level::kError, {}, error.message()) + "\n";
  (void)::write(fd.get(), line.data(), line.size());
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  size_t next = 1;
  auto global = ParseFlags(args, 1, kGlobalFlags, true, &next);
  if (!global.ok()) {
    std::fprintf(stderr, "cricket-runtime: %s\n", global.error().message().c_str());
    return 2;
  }
  if (global->Has("version")) {
    std::printf("cricket-runtime\nspec: %s\n", kOciVersion);
    return 0;
  }
  if (next >= args.size() || global->Has("help")) {
    std::fputs("usage: cricket-runtime [--root DIR] [--log FILE] [--log-format text|json] "
               "COMMAND [ARGS]\ncommands: create start state kill delete run list spec exec ps update events pause resume checkpoint restore\n",
               stderr);
    return global->Has("help") ? 0 : 2;
  }
  auto format = log::ParseFormat(global->Get("log-format", "text"));
  log::Init(global->Has("debug") ? log::Level::kDebug : log::Level::kWarn,
            format.value_or(log::Format::kText));
  Command command = Lookup(args[next]);
  if (command == nullptr) {
    LogError(*global, Error(Code::kInvalidArgument, "unknown command \"" + args[next] + "\""));
    return 2;
  }
  // The commands that run code in a container's namespaces do so from a sealed executable
  // (cli_reexec.h); first thing, before any other work is done twice.
  if (command == Create || command == Run || command == Exec) {
    if (auto sealed = RunFromSealedExe(argv, global->Get("root", kDefaultRuntimeRoot));
        !sealed.ok()) {
      LogError(*global, sealed.error());
      return 1;
    }
  }
  auto cgroups = DetectCgroups();
  if (!cgroups.ok()) {
    LogError(*global, cgroups.error());
    return 1;
  }
  // runc's flag: cgroupsPath is `slice:prefix:name`, the unit's cgroup delegated to us
  // (CgroupPathFor says what the caller must have started).
  cgroups->systemd_driver = global->Has("systemd-cgroup");
  LinuxSyscalls sys;
  Runtime runtime(sys, global->Get("root", kDefaultRuntimeRoot), *cgroups);
  Context ctx{runtime, std::move(args), next + 1};
  auto code = command(ctx);
  if (!code.ok()) {
    LogError(*global, code.error());
    return 1;
  }
  return *code;
}

}  // namespace
}  // namespace cricket::oci::cli

int main(int argc, char** argv) { return cricket::oci::cli::Main(argc, argv); }
