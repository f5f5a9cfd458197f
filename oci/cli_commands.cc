#include "oci/cli_commands.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "oci/cli_tty.h"
#include "oci/console_socket.h"
#include "oci/spec_default.h"
#include "oci/spec_json.h"
#include "oci/spec_json_read.h"

namespace cricket::oci::cli {

namespace {

const std::vector<FlagSpec> kCreateFlags = {
    {"bundle", 'b', true},       {"pid-file", 0, true},        {"console-socket", 0, true},
    {"no-pivot", 0, false},      {"no-new-keyring", 0, false}, {"preserve-fds", 0, true},
    {"detach", 'd', false},      {"keep", 0, false},
};

volatile sig_atomic_t g_forward_pid = 0;

void ForwardSignal(int sig) {
  if (g_forward_pid > 0) {
    ::kill(static_cast<pid_t>(g_forward_pid), sig);
  }
}

// While we wait for a process we started, signals meant for us go to it (as runc does).
void ForwardSignalsTo(pid_t pid) {
  g_forward_pid = pid;
  struct sigaction sa {};
  sa.sa_handler = ForwardSignal;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) {
    ::sigaction(sig, &sa, nullptr);
  }
}

Result<std::string> OneId(const ParsedArgs& parsed, const char* command) {
  if (parsed.positional.empty()) {
    return Error(Code::kInvalidArgument, std::string(command) + " needs a container id");
  }
  return parsed.positional[0];
}

Result<void> WritePidFile(const std::string& path, pid_t pid) {
  if (path.empty()) {
    return Ok();
  }
  return WriteFileAtomic(path, std::to_string(pid), 0644);
}

Result<int> PreserveFds(const ParsedArgs& parsed) {
  std::string text = parsed.Get("preserve-fds", "0");
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0) {
    return Error(Code::kInvalidArgument, "--preserve-fds: expected a count, got \"" + text + "\"");
  }
  return value;
}

Result<ContainerState> CreateFromFlags(Context& ctx, const ParsedArgs& parsed, const std::string& id,
                                       int console_fd = -1, bool start_now = false) {
  CreateOptions options;
  options.console_fd = console_fd;
  options.start_now = start_now;
  options.bundle = parsed.Get("bundle", ".");
  options.console_socket = parsed.Get("console-socket");
  options.no_pivot = parsed.Has("no-pivot");
  CR_ASSIGN_OR_RETURN(options.stdio.preserve_fds, PreserveFds(parsed));
  CR_ASSIGN_OR_RETURN(ContainerState state, ctx.runtime.Create(id, options));
  if (auto written = WritePidFile(parsed.Get("pid-file"), state.pid); !written.ok()) {
    (void)ctx.runtime.Delete(id, true);
    return written.error();
  }
  return state;
}

Result<Process> LoadProcess(const std::string& path) {
  CR_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto process = ParseProcess(text);
  if (!process.ok()) {
    return process.error().Wrap(path);
  }
  return process;
}

Result<uint32_t> ParseId(const std::string& text) {
  uint32_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return Error(Code::kInvalidArgument, "--user: expected uid[:gid] numbers, got \"" + text + "\"");
  }
  return value;
}

}  // namespace

Result<int> Create(Context& ctx) {
  CR_ASSIGN_OR_RETURN(ParsedArgs parsed, ParseFlags(ctx.args, ctx.next, kCreateFlags, false, nullptr));
  CR_ASSIGN_OR_RETURN(std::string id, OneId(parsed, "create"));
  CR_ASSIGN_OR_RETURN(ContainerState state, CreateFromFlags(ctx, parsed, id));
  return 0;
}

struct RunPlan {
  bool own_terminal = false;  // a terminal without --console-socket: we proxy the pty
  bool start_now = false;     // no hooks: one step instead of create + start
};

// Reads what `run` needs to know from the spec; a spec that does not load is left for Create
// to report.
RunPlan PlanRun(const ParsedArgs& parsed) {
  RunPlan plan;
  auto spec = LoadSpec(parsed.Get("bundle", "."));
  if (!spec.ok()) {
    return plan;
  }
  plan.own_terminal = spec->process && spec->process->terminal && !parsed.Has("console-socket") &&
                      !parsed.Has("detach");
  plan.start_now = !spec->hooks.has_value();
  return plan;
}

Result<int> Run(Context& ctx) {
  CR_ASSIGN_OR_RETURN(ParsedArgs parsed, ParseFlags(ctx.args, ctx.next, kCreateFlags, false, nullptr));
  CR_ASSIGN_OR_RETURN(std::string id, OneId(parsed, "run"));
  RunPlan run = PlanRun(parsed);
  UniqueFd ours;
  UniqueFd theirs;
  if (run.own_terminal) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
      return Error::FromErrno(errno, "socketpair for the console");
    }
    ours.Reset(pair[0]);
    theirs.Reset(pair[1]);
  }
  CR_ASSIGN_OR_RETURN(ContainerState state,
                      CreateFromFlags(ctx, parsed, id, theirs.get(), run.start_now));
  UniqueFd master;
  if (run.own_terminal) {
    auto received = ReceiveFd(ours.get());
    if (!received.ok()) {
      (void)ctx.runtime.Delete(id, true);
      return received.error();
    }
    master = std::move(received).value();
  }
  if (!run.start_now) {
    if (auto started = ctx.runtime.Start(id); !started.ok()) {
      (void)ctx.runtime.Delete(id, true);
      return started.error();
    }
  }
  if (parsed.Has("detach")) {
    return 0;
  }
  ForwardSignalsTo(state.pid);
  if (master.valid()) {
    ProxyTerminal(master.get());
  }
  CR_ASSIGN_OR_RETURN(int code, ctx.runtime.Wait(state.pid));
  if (!parsed.Has("keep")) {
    CR_RETURN_IF_ERROR(ctx.runtime.Delete(id, true));
  }
  return code;
}

Result<int> Start(Context& ctx) {
  CR_ASSIGN_OR_RETURN(ParsedArgs parsed, ParseFlags(ctx.args, ctx.next, {}, false, nullptr));
  CR_ASSIGN_OR_RETURN(std::string id, OneId(parsed, "start"));
  CR_RETURN_IF_ERROR(ctx.runtime.Start(id));
  return 0;
}

Result<int> Pause(Context& ctx) {
  CR_ASSIGN_OR_RETURN(ParsedArgs parsed, ParseFlags(ctx.args, ctx.next, {}, false, nullptr));
  CR_ASSIGN_OR_RETURN(std::string id, OneId(parsed, "pause"));
  CR_RETURN_IF_ERROR(ctx.runtime.Pause(id));
  return 0;
}

Result<int> Checkpoint(Context& ctx) {
  static const std::vector<FlagSpec> kFlags = {
      {"image-path", 0, true},       {"work-path", 0, true},   {"leave-running", 0, false},
      {"tcp-established", 0, false}, {"file-locks", 0, false}};
  CR_ASSIGN_OR_RETURN(ParsedArgs parsed, ParseFlags(ctx.args, ctx.next, kFlags, false, nullptr));
  CR_ASSIGN_OR_RETURN(std::string id, OneId(parsed, "checkpoint"));
  CheckpointOptions options;
  options.image_path = parsed.Get("image-path", "checkpoint");  // runc's default
  options.work_path = parsed.Get("work-path");
  options.leave_running = parsed.Has("leave-running");
  CR_RETURN_IF_ERROR(ctx.runtime.Checkpoint(id, options));
  return 0;
}

// The restored process keeps our stdio where it had pipes. Without --detach we wait for it, as
// `run` does. (--tcp-established and --file-locks are always on.)
Result<int> Restore(Context& ctx) {
  static const std::vector<FlagSpec> kFlags = {
      {"image-path", 0, true}, {"work-path", 0, true},  {"bundle", 'b', true},
      {"pid-file", 0, true},   {"detach", 'd', false},  {"tcp-established", 0, false},
      {"file-locks", 0, false}};
  CR_ASSIGN_OR_RETURN(ParsedArgs parsed, ParseFlags(ctx.args, ctx.next, kFlags, false, nullptr));
  CR_ASSIGN_OR_RETURN(std::string id, OneId(parsed, "restore"));
  RestoreOptions options;
  options.image_path = parsed.Get("image-path", "checkpoint");
  options.work_path = parsed.Get("work-path");
  options.bundle = parsed.Get("bundle", ".");
  CR_ASSIGN_OR_RETURN(ContainerState state, ctx.runtime.Restore(id, options));
  if (auto written = WritePidFile(parsed.Get("pid-file"), state.pid); !written.ok()) {
    (void)ctx.runtime.Delete(id, true);
    return written.error();
  }
  if (parsed.Has("detach")) {
    return 0;
  }
  ForwardSignalsTo(state.pid);
  CR_ASSIGN_OR_RETURN(int code, ctx.runtime.Wait(state.pid));
  CR_RETURN_IF_ERROR(ctx.runtime.Delete(id, true));
  return code;
}

Result<int> Resume(Context& ctx) {
  CR_ASSIGN_OR_RETURN(ParsedArgs parsed, ParseFlags(ctx.args, ctx.next, {}, false, nullptr));
  CR_ASSIGN_OR_RETURN(std::string id, OneId(parsed, "resume"));
  CR_RETURN_IF_ERROR(ctx.runtime.Resume(id));
  return 0;
}

Result<int> State(Context& ctx) {
  CR_ASSIGN_OR_RETURN(ParsedArgs parsed, ParseFlags(ctx.args, ctx.next, {}, false, nullptr));
  CR_ASSIGN_OR_RETURN(std::string id, OneId(parsed, "state"));
  CR_ASSIGN_OR_RETURN(ContainerState state, ctx.runtime.State(id));
  std::fputs(StateToJson(state).c_str(), stdout);
  return 0;
}

Result<int> Kill(Context& ctx) {
  CR_ASSIGN_OR_RETURN(ParsedArgs parsed,
                      ParseFlags(ctx.args, ctx.next, {{"all", 'a', false}}, false, nullptr));
  CR_ASSIGN_OR_RETURN(std::string id, OneId(parsed, "kill"));
  int signal = SIGTERM;
  if (parsed.positional.size() > 1) {
    CR_ASSIGN_OR_RETURN(signal, ParseSignal(parsed.positional[1]));
  }
  CR_RETURN_IF_ERROR(ctx.runtime.Kill(id, signal, parsed.Has("all")));
  return 0;
}

Result<int> Delete(Context& ctx) {
  CR_ASSIGN_OR_RETURN(ParsedArgs parsed,
                      ParseFlags(ctx.args, ctx.next, {{"force", 'f', false}}, false, nullptr));
  CR_ASSIGN_OR_RETURN(std::string id, OneId(parsed, "delete"));
  auto deleted = ctx.runtime.Delete(id, parsed.Has("force"));
  // runc: delete --force of an unknown container succeeds.
  if (!deleted.ok() && !(parsed.Has("force") && deleted.error().code() == Code::kNotFound)) {
    return deleted.error();
  }
  return 0;
}

Result<int> List(Context& ctx) {
  CR_ASSIGN_OR_RETURN(ParsedArgs parsed,
                      ParseFlags(ctx.args, ctx.next, {{"format", 'f', true}, {"quiet", 'q', false}},
                                 false, nullptr));
  CR_ASSIGN_OR_RETURN(auto states, ctx.runtime.List());
  if (parsed.Get("format", "table") == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& s : states) {
      list.push_back(nlohmann::json::parse(StateToJson(s), nullptr, false));
    }
    std::printf("%s\n", list.dump().c_str());
    return 0;
  }
  if (!parsed.Has("quiet")) {
    std::printf("%-24s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
  }
  for (const auto& s : states) {
    if (parsed.Has("quiet")) {
      std::printf("%s\n", s.id.c_str());
    } else {
      std::printf("%-24s %-8d %-10s %-40s %s\n", s.id.c_str(),
                  s.status == Status::kStopped ? 0 : s.pid, StatusName(s.status), s.bundle.c_str(),
                  s.created.c_str());
    }
  }
  return 0;
}

Result<int> Ps(Context& ctx) {
  CR_ASSIGN_OR_RETURN(ParsedArgs parsed,
                      ParseFlags(ctx.args, ctx.next, {{"format", 'f', true}}, false, nullptr));
  CR_ASSIGN_OR_RETURN(std::string id, OneId(parsed, "ps"));
  CR_ASSIGN_OR_RETURN(auto pids, ctx.runtime.Processes(id));
  if (parsed.Get("format", "table") == "json") {
    std::printf("%s\n", nlohmann::json(pids).dump().c_str());
    return 0;
  }
  std::printf("PID\n");
  for (pid_t pid : pids) {
    std::printf("%d\n", pid);
  }
  return 0;
}

Result<int> Update(Context& ctx) {
  CR_ASSIGN_OR_RETURN(ParsedArgs parsed,
                      ParseFlags(ctx.args, ctx.next, {{"resources", 'r', true}}, false, nullptr));
  CR_ASSIGN_OR_RETURN(std::string id, OneId(parsed, "update"));
  std::string file = parsed.Get("resources");
  if (file.empty()) {
    return Error(Code::kUnimplemented, "update: only --resources FILE (or -) is supported");
  }
  CR_ASSIGN_OR_RETURN(std::string text, ReadFile(file == "-" ? "/dev/stdin" : file));
  CR_ASSIGN_OR_RETURN(Resources resources, ParseResources(text));
  CR_RETURN_IF_ERROR(ctx.runtime.Update(id, resources));
  return 0;
}

// runc's `events --stats ID`: one stats event, in the shape containerd's runc shim reads.
Result<int> Events(Context& ctx) {
  CR_ASSIGN_OR_RETURN(ParsedArgs parsed, ParseFlags(ctx.args, ctx.next,
                                                    {{"stats", 0, false}, {"interval", 0, true}},
                                                    false, nullptr));
  CR_ASSIGN_OR_RETURN(std::string id, OneId(parsed, "events"));
  if (!parsed.Has("stats")) {
    return Error(Code::kUnimplemented, "events: only --stats is supported");
  }
  CR_ASSIGN_OR_RETURN(CgroupStats s, ctx.runtime.Stats(id));
  nlohmann::json event = {
      {"type", "stats"},
      {"id", id},
      {"data",
       {{"cpu", {{"usage", {{"total", s.cpu_usage_ns}}}}},
        {"memory",
         {{"usage", {{"usage", s.memory_usage_bytes}, {"limit", s.memory_limit_bytes}}},
          {"workingSet", s.memory_working_set_bytes},
          {"oomKills", s.oom_kills}}},
        {"pids", {{"current", s.pids_current}}}}}};
  std::printf("%s\n", event.dump().c_str());
  return 0;
}

Result<int> Spec(Context& ctx) {
  CR_ASSIGN_OR_RETURN(ParsedArgs parsed,
                      ParseFlags(ctx.args, ctx.next, {{"bundle", 'b', true}, {"rootless", 0, false}},
                                 false, nullptr));
  std::string path = parsed.Get("bundle", ".") + "/config.json";
  if (std::filesystem::exists(path)) {
    return Error(Code::kAlreadyExists, "file " + path + " exists: remove it first");
  }
  if (parsed.Has("rootless")) {
    return Error(Code::kUnimplemented, "spec --rootless is not supported");
  }
  CR_RETURN_IF_ERROR(WriteFileAtomic(path, SpecToJson(DefaultSpec()), 0644));
  return 0;
}

Result<int> Exec(Context& ctx) {
  static const std::vector<FlagSpec> kFlags = {
      {"process", 'p', true},  {"detach", 'd', false},         {"pid-file", 0, true},
      {"console-socket", 0, true}, {"tty", 't', false},        {"env", 'e', true, true},
      {"cwd", 0, true},        {"user", 'u', true},            {"no-new-privs", 0, false},
      {"preserve-fds", 0, true},
  };
  CR_ASSIGN_OR_RETURN(ParsedArgs parsed, ParseFlags(ctx.args, ctx.next, kFlags, false, nullptr));
  CR_ASSIGN_OR_RETURN(std::string id, OneId(parsed, "exec"));
  Process process;
  if (parsed.Has("process")) {
    CR_ASSIGN_OR_RETURN(process, LoadProcess(parsed.Get("process")));
  } else {
    if (parsed.positional.size() < 2) {
      return Error(Code::kInvalidArgument, "exec needs --process or a command after the id");
    }
    // The container's own process settings, with this command line.
    CR_ASSIGN_OR_RETURN(ContainerState state, ctx.runtime.State(id));
    CR_ASSIGN_OR_RETURN(auto spec, LoadSpec(state.bundle));
    process = spec.process.value_or(Process{});
    process.args.assign(parsed.positional.begin() + 1, parsed.positional.end());
    process.terminal = parsed.Has("tty");
    for (const auto& e : parsed.All("env")) {
      process.env.push_back(e);
    }
    process.cwd = parsed.Get("cwd", process.cwd.empty() ? "/" : process.cwd);
    if (parsed.Has("no-new-privs")) {
      process.no_new_privileges = true;
    }
    if (parsed.Has("user")) {
      std::string user = parsed.Get("user");
      size_t colon = user.find(':');
      CR_ASSIGN_OR_RETURN(process.user.uid, ParseId(user.substr(0, colon)));
      if (colon != std::string::npos) {
        CR_ASSIGN_OR_RETURN(process.user.gid, ParseId(user.substr(colon + 1)));
      }
    }
  }
  ExecOptions options;
  options.console_socket = parsed.Get("console-socket");
  CR_ASSIGN_OR_RETURN(options.stdio.preserve_fds, PreserveFds(parsed));
  CR_ASSIGN_OR_RETURN(pid_t pid, ctx.runtime.Exec(id, process, options));
  CR_RETURN_IF_ERROR(WritePidFile(parsed.Get("pid-file"), pid));
  if (parsed.Has("detach")) {
    return 0;
  }
  ForwardSignalsTo(pid);
  return ctx.runtime.Wait(pid);
}

}  // namespace cricket::oci::cli
