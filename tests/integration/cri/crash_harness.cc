#include "tests/integration/cri/crash_harness.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/failpoint.h"
#include "common/files.h"
#include "network/bridge_network.h"
#include "network/names.h"
#include "network/netlink.h"
#include "tests/support/cri_calls.h"
#include "tests/support/temp_dir.h"

namespace cricket::testing {
namespace {

namespace fs = std::filesystem;
namespace v1 = ::runtime::v1;
using namespace std::chrono_literals;

// A deadline for each call: a wedged daemon fails the row instead of hanging the matrix.
void SetDeadline(grpc::ClientContext& ctx, std::chrono::seconds s = 60s) {
  ctx.set_deadline(std::chrono::system_clock::now() + s);
}

std::string StatusText(const grpc::Status& s) {
  return s.ok() ? "OK" : std::to_string(s.error_code()) + " " + s.error_message();
}

// Names in `dir` (not recursive); none when it does not exist.
std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    out.push_back(e.path().filename().string());
  }
  return out;
}

std::string RunCommand(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");  // NOLINT(cert-env33-c): a fixed test command
  if (p == nullptr) {
    return out;
  }
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) {
    out.append(buf, n);
  }
  ::pclose(p);
  return out;
}

bool Under(const std::string& path, const std::string& dir) {
  return path == dir || path.starts_with(dir + "/");
}

// Octal escapes of /proc/self/mountinfo (a space is \040).
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct MountLine {
  std::string point;
  std::string fstype;
};

std::vector<MountLine> Mounts() {
  std::vector<MountLine> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point, word;
    fields >> id >> parent >> dev >> root >> point;
    while (fields >> word && word != "-") {
    }
    std::string fstype;
    fields >> fstype;
    out.push_back({Unescape(point), fstype});
  }
  return out;
}

void AddMounts(const LeakScope& scope, std::set<std::string>& out) {
  for (const auto& m : Mounts()) {
    if (Under(m.point, scope.root) || Under(m.point, scope.state)) {
      out.insert("mount " + m.point);
    }
  }
}

// Every cgroup below the parent, in each hierarchy (v1 controllers and the v2 tree).
void AddCgroups(const LeakScope& scope, std::set<std::string>& out) {
  std::set<std::string> seen_points;
  for (const auto& m : Mounts()) {
    if ((m.fstype != "cgroup" && m.fstype != "cgroup2") || !seen_points.insert(m.point).second) {
      continue;
    }
    const std::string parent = m.point + scope.cgroup_parent;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(parent, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec)) {
        out.insert("cgroup " + it->path().string());
      }
    }
  }
}

void AddProcesses(const LeakScope& scope, std::set<std::string>& out, pid_t ignore) {
  for (const auto& name : Entries("/proc")) {
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) {
      continue;
    }
    const pid_t pid = std::stoi(name);
    if (pid == ::getpid() || pid == ignore) {
      continue;
    }
    std::string cmdline = ReadFile("/proc/" + name + "/cmdline").value_or("");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    const std::string cgroups = ReadFile("/proc/" + name + "/cgroup").value_or("");
    const bool ours = cmdline.find(scope.root + "/") != std::string::npos ||
                      cmdline.find(scope.state + "/") != std::string::npos ||
                      cmdline.find(scope.state + " ") != std::string::npos ||
                      cgroups.find(":" + scope.cgroup_parent + "/") != std::string::npos;
    if (ours && !cmdline.empty()) {
      out.insert("process " + name + " " + cmdline);
    }
  }
}

void AddNetwork(const LeakScope& scope, const std::set<std::string>& ids,
                std::set<std::string>& out) {
  for (const auto& name : Entries(scope.state + "/netns")) {
    out.insert("netns " + name);
  }
  const std::string data = scope.root + "/network/" + scope.bridge;
  for (const auto& name : Entries(data + "/leases")) {
    if (name.find('.') != std::string::npos && std::isdigit(static_cast<unsigned char>(name[0]))) {
      out.insert("lease " + name);
    }
  }
  for (const auto& name : Entries(data + "/hostports")) {
    if (!name.starts_with(".")) {
      out.insert("hostport-claim " + name);
    }
  }
  std::set<std::string> veths;
  for (const auto& id : ids) {
    veths.insert(network::HostVethName(id));
  }
  if (auto nl = network::Netlink::Open(); nl.ok()) {
    auto bridge = nl->LinkIndex(scope.bridge);
    if (auto links = nl->ListLinks(); links.ok()) {
      for (const auto& link : *links) {
        if ((bridge.ok() && link.master == *bridge) || veths.contains(link.name)) {
          out.insert("link " + link.name);
        }
      }
    }
  }
  // Rules naming the bridge, a known pod or its host-port chain.
  std::vector<std::string> needles = {scope.bridge};
  for (const auto& id : ids) {
    needles.push_back(id);
    needles.push_back(network::ShortHash(id, 16));
  }
  std::istringstream rules(RunCommand("iptables-save 2>/dev/null"));
  std::string line;
  std::string table;
  while (std::getline(rules, line)) {
    if (line.starts_with("*")) {
      table = line.substr(1);
    }
    if (line.starts_with("#") || line.starts_with("COMMIT")) {
      continue;
    }
    if (line.starts_with(":")) {
      line = line.substr(0, line.find(' '));  // a chain, without its counters
    }
    for (const auto& needle : needles) {
      if (line.find(needle) != std::string::npos) {
        out.insert("iptables " + table + " " + line);
        break;
      }
    }
  }
}

void AddDirs(const LeakScope& scope, std::set<std::string>& out) {
  const std::vector<std::string> dirs = {scope.state + "/shims",
                                         scope.state + "/runtime",
                                         scope.state + "/runtimes",
                                         scope.state + "/sandboxes",
                                         scope.state + "/containers",
                                         scope.root + "/snapshots/layers",
                                         scope.root + "/snapshots/containers",
                                         scope.root + "/blobs/sha256",
                                         scope.root + "/ingest",
                                         scope.root + "/containers"};
  for (const auto* list : {&dirs, &scope.extra_dirs}) {
    for (const auto& dir : *list) {
      for (const auto& name : Entries(dir)) {
        out.insert("file " + dir + "/" + name);
      }
    }
  }
  // A kind of state this list does not know yet still shows as a new top-level entry.
  for (const auto* top : {&scope.root, &scope.state}) {
    for (const auto& name : Entries(*top)) {
      if (name.ends_with("-wal") || name.ends_with("-shm") || name.ends_with("-journal") ||
          name.ends_with(".sock") || name.ends_with(".lock")) {
        continue;
      }
      out.insert("file " + *top + "/" + name);
    }
  }
}

// The 64-hex ids after "pod=" and "ctr=" in a cricketd log (its log fields).
void IdsInLog(const std::string& text, LeakChecker& leaks) {
  for (const char* key : {"pod=", "ctr="}) {
    for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 4)) {
      const std::string id = text.substr(at + 4, 64);
      if (id.size() == 64 && std::all_of(id.begin(), id.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
          })) {
        leaks.NoteId(id);
      }
    }
  }
}

}  // namespace

std::string_view CrashActionName(CrashAction action) {
  return action == CrashAction::kKill ? "kill" : "error";
}

std::vector<std::string> FailPointsWithPrefix(const std::vector<std::string_view>& prefixes) {
  std::vector<std::string> out;
  for (const auto& point : AllFailPoints()) {
    for (const auto& prefix : prefixes) {
      if (point.name.starts_with(prefix)) {
        out.emplace_back(point.name);
        break;
      }
    }
  }
  return out;
}

void LeakChecker::CollectIds() {
  for (const auto& dir :
       {scope_.state + "/sandboxes", scope_.state + "/netns", scope_.state + "/runtime"}) {
    for (const auto& name : Entries(dir)) {
      if (name.size() == 64) {
        ids_.insert(name);
      }
    }
  }
  // Leases and host-port claims name their pod (a failed RunPodSandbox logs no id).
  const std::string data = scope_.root + "/network/" + scope_.bridge;
  std::vector<std::string> claims;
  for (const auto& dir : {data + "/leases", data + "/hostports"}) {
    for (const auto& name : Entries(dir)) {
      claims.push_back(dir + "/" + name);
    }
  }
  for (const auto& claim : claims) {
    std::string owner = ReadFile(claim).value_or("");
    while (!owner.empty() && std::isspace(static_cast<unsigned char>(owner.back()))) {
      owner.pop_back();
    }
    if (owner.size() == 64) {
      ids_.insert(owner);
    }
  }
}

std::set<std::string> LeakChecker::Objects() { return ObjectsIgnoring(0); }

std::set<std::string> LeakChecker::ObjectsIgnoring(pid_t ignore_pid) {
  CollectIds();
  std::set<std::string> out;
  AddMounts(scope_, out);
  AddCgroups(scope_, out);
  AddProcesses(scope_, out, ignore_pid);
  AddNetwork(scope_, ids_, out);
  AddDirs(scope_, out);
  return out;
}

void LeakChecker::Snapshot() { baseline_ = Objects(); }

std::vector<std::string> LeakChecker::Leaks(pid_t ignore_pid) {
  std::vector<std::string> out;
  for (const auto& object : ObjectsIgnoring(ignore_pid)) {
    if (!baseline_.contains(object)) {
      out.push_back(object);
    }
  }
  return out;
}

void CrashMatrixFixture::SetUp() {
  CR_REQUIRE_ROOT();
  CricketdFixture::SetUp();
  cgroup_parent_ = "/crtest-" + std::to_string(::getpid()) + "-crash";
  bridge_ = "crd" + std::to_string(::getpid() % 100000);  // CricketdFixture::NetworkSection's
  ip_forward_ = ReadFile("/proc/sys/net/ipv4/ip_forward").value_or("0\n");
  leaks_ = std::make_unique<LeakChecker>(LeakScope{root(), state(), bridge_, cgroup_parent_, {}});
  const std::string warm = WarmUp();
  ASSERT_EQ(warm, "") << "warm-up: " << warm;
}

std::string CrashMatrixFixture::WarmUp() {
  std::string why;
  if (!StartDaemon("", &why)) {
    return why;
  }
  // One pod makes the bridge, its address and the long-lived rules: they belong to the baseline.
  std::string id;
  grpc::Status run = RunPod(*runtime_, PodConfig("warmup"), &id);
  if (!run.ok()) {
    return "RunPodSandbox: " + StatusText(run);
  }
  if (grpc::Status rm = StopAndRemovePod(*runtime_, id); !rm.ok()) {
    return "remove warm-up pod: " + StatusText(rm);
  }
  if (std::string more = BeforeBaseline(); !more.empty()) {
    return more;
  }
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ListImagesResponse images;
  if (grpc::Status listed = images_->ListImages(&ctx, {}, &images); !listed.ok()) {
    return "ListImages: " + StatusText(listed);
  }
  for (const auto& image : images.images()) {
    baseline_images_.insert(image.id());
  }
  StopDaemon();
  leaks_->NoteId(id);
  leaks_->Snapshot();
  return "";
}

void CrashMatrixFixture::TearDown() {
  if (leaks_ == nullptr) {
    return;  // skipped before anything was made
  }
  std::string why;
  if (daemon_ == nullptr && !StartDaemon("", &why)) {
    ADD_FAILURE() << "teardown: " << why;
  }
  if (runtime_ != nullptr) {
    const std::string removed = RemoveEverything();
    EXPECT_EQ(removed, "") << "teardown";
  }
  StopDaemon();
  if (HasFailure()) {
    // The daemons of the failed rows, and the last ones (a failure outside the rows).
    std::set<int> shown;
    for (const auto& [first, last] : failed_row_logs_) {
      for (int i = first; i <= last; ++i) {
        shown.insert(i);
      }
    }
    for (int i = std::max(1, starts_ - 2); i <= starts_; ++i) {
      shown.insert(i);
    }
    for (int i : shown) {
      const std::string log = dir_.Join("cricketd-" + std::to_string(i) + ".log");
      std::cerr << "--- " << log << " (tail)\n";
      std::string text = ReadFile(log).value_or("");
      std::cerr << (text.size() > 3000 ? text.substr(text.size() - 3000) : text) << "\n";
    }
  }
  network::BridgeOptions bridge;
  bridge.bridge = bridge_;
  bridge.data_dir = root() + "/network/" + bridge_;
  if (auto net = network::BridgeNetwork::Create(bridge); net.ok()) {
    auto destroyed = (*net)->Destroy();
    EXPECT_TRUE(destroyed.ok()) << destroyed.error().ToString();
  }
  (void)WriteKernelFile("/proc/sys/net/ipv4/ip_forward", ip_forward_);
  // The parent in each hierarchy (cricketd made it); a pod cgroup left below it was reported by
  // a row already, and keeps the rmdir from succeeding, which is fine.
  for (const auto& m : Mounts()) {
    if (m.fstype == "cgroup" || m.fstype == "cgroup2") {
      ::rmdir((m.point + cgroup_parent_).c_str());
    }
  }
}

v1::PodSandboxConfig CrashMatrixFixture::PodConfig(const std::string& name) {
  v1::PodSandboxConfig config = MakePodConfig(name, dir_.Join("logs"));
  config.mutable_linux()->set_cgroup_parent(cgroup_parent_);
  return config;
}

bool CrashMatrixFixture::StartDaemon(const std::string& failpoints, std::string* why) {
  StopDaemon();
  const std::string log = dir_.Join("cricketd-" + std::to_string(++starts_) + ".log");
  std::vector<std::string> env;
  env.push_back("CRICKET_FAILPOINTS=" + failpoints);
  daemon_failpoints_ = failpoints;
  daemon_ = std::make_unique<CricketdProcess>(
      cricketd_binary_,
      std::vector<std::string>{"--root", root(), "--state", state(), "--config", config_path_}, log,
      env);
  if (!daemon_->WaitReady(socket(), 60s)) {
    *why = "cricketd (" + failpoints + ") did not start: " + daemon_->Stderr();
    daemon_.reset();
    return false;
  }
  runtime_ = RuntimeStub();
  images_ = ImageStub();
  return true;
}

void CrashMatrixFixture::StopDaemon() {
  if (daemon_ == nullptr) {
    return;
  }
  daemon_->Signal(SIGTERM);
  if (!daemon_->WaitExit(60s)) {
    daemon_->Signal(SIGKILL);
    (void)daemon_->WaitExit(10s);
  }
  daemon_.reset();
  daemon_failpoints_.clear();
  runtime_.reset();
  images_.reset();
}

void CrashMatrixFixture::NoteDaemonIds() {
  // A stopped daemon's log no longer changes: each is read once, the running one every time.
  for (int i = logs_noted_ + 1; i <= starts_; ++i) {
    IdsInLog(ReadFile(dir_.Join("cricketd-" + std::to_string(i) + ".log")).value_or(""), *leaks_);
    if (i < starts_ || daemon_ == nullptr) {
      logs_noted_ = i;
    }
  }
}

std::string CrashMatrixFixture::CheckPodsUsable(v1::RuntimeService::Stub& runtime) {
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ListPodSandboxResponse pods;
  if (grpc::Status listed = runtime.ListPodSandbox(&ctx, {}, &pods); !listed.ok()) {
    return "ListPodSandbox: " + StatusText(listed);
  }
  for (const auto& pod : pods.items()) {
    grpc::ClientContext sctx;
    SetDeadline(sctx);
    v1::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(pod.id());
    req.set_verbose(true);
    v1::PodSandboxStatusResponse resp;
    if (grpc::Status s = runtime.PodSandboxStatus(&sctx, req, &resp); !s.ok()) {
      return "PodSandboxStatus " + pod.id() + ": " + StatusText(s);
    }
    if (resp.status().state() != v1::SANDBOX_READY) {
      continue;  // NotReady: it need only be removable, which the removal checks
    }
    auto info = nlohmann::json::parse(resp.info().contains("info") ? resp.info().at("info") : "{}",
                                      nullptr, false);
    const bool host_network = info.is_object() && info.value("hostNetwork", false);
    if (!host_network && resp.status().network().ip().empty()) {
      return "pod " + pod.id() + " is READY without an IP";
    }
    const int pid = info.is_object() ? info.value("infraPid", 0) : 0;
    if (pid <= 0 || ::kill(pid, 0) != 0) {
      return "pod " + pod.id() + " is READY without a live infra process (pid " +
             std::to_string(pid) + ")";
    }
  }
  return "";
}

std::string CrashMatrixFixture::RemoveEverything() {
  std::string first_error;
  auto note = [&](const std::string& what, const grpc::Status& s) {
    if (!s.ok() && first_error.empty()) {
      first_error = what + ": " + StatusText(s);
    }
  };
  for (int attempt = 0; attempt < 2; ++attempt) {
    first_error.clear();
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ListContainersResponse ctrs;
    note("ListContainers", runtime_->ListContainers(&ctx, {}, &ctrs));
    for (const auto& c : ctrs.containers()) {
      leaks_->NoteId(c.id());
      grpc::ClientContext stop_ctx, rm_ctx;
      SetDeadline(stop_ctx);
      SetDeadline(rm_ctx);
      v1::StopContainerRequest stop;
      stop.set_container_id(c.id());
      v1::StopContainerResponse stopped;
      note("StopContainer " + c.id(), runtime_->StopContainer(&stop_ctx, stop, &stopped));
      v1::RemoveContainerRequest rm;
      rm.set_container_id(c.id());
      v1::RemoveContainerResponse removed;
      note("RemoveContainer " + c.id(), runtime_->RemoveContainer(&rm_ctx, rm, &removed));
    }
    grpc::ClientContext pctx;
    SetDeadline(pctx);
    v1::ListPodSandboxResponse pods;
    note("ListPodSandbox", runtime_->ListPodSandbox(&pctx, {}, &pods));
    for (const auto& pod : pods.items()) {
      leaks_->NoteId(pod.id());
      note("stop/remove pod " + pod.id(), StopAndRemovePod(*runtime_, pod.id()));
    }
    grpc::ClientContext ictx;
    SetDeadline(ictx);
    v1::ListImagesResponse images;
    note("ListImages", images_->ListImages(&ictx, {}, &images));
    for (const auto& image : images.images()) {
      if (baseline_images_.contains(image.id())) {
        continue;
      }
      grpc::ClientContext rm_ctx;
      SetDeadline(rm_ctx);
      v1::RemoveImageRequest rm;
      rm.mutable_image()->set_image(image.id());
      v1::RemoveImageResponse removed;
      note("RemoveImage " + image.id(), images_->RemoveImage(&rm_ctx, rm, &removed));
    }
    if (first_error.empty()) {
      break;
    }
  }
  if (!first_error.empty()) {
    return first_error;
  }
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ListPodSandboxResponse pods;
  grpc::Status listed = runtime_->ListPodSandbox(&ctx, {}, &pods);
  if (!listed.ok() || pods.items_size() != 0) {
    return "pods left after removal: " + std::to_string(pods.items_size()) + " " +
           StatusText(listed);
  }
  return "";
}

std::string CrashMatrixFixture::RunSteps(const std::string& point, CrashAction action,
                                         const CrashScenario& scenario) {
  std::string why;
  const std::string spec = point + "=" + std::string(CrashActionName(action));
  if (!StartDaemon(spec, &why)) {
    return why;
  }
  const int fired_log = starts_;
  if (scenario.prepare) {
    if (std::string prepared = scenario.prepare(*runtime_); !prepared.empty()) {
      return "prepare: " + prepared;
    }
  }
  const grpc::Status status = scenario.rpc(*runtime_);
  if (action == CrashAction::kKill && scenario.point_in_cricketd) {
    // The call fails as the daemon dies; wait for the exit itself.
    std::optional<int> exit = daemon_->WaitExit(30s);
    if (!exit) {
      return "not reached: cricketd still runs, the call returned " + StatusText(status);
    }
    daemon_.reset();
    if (!WIFSIGNALED(*exit) || WTERMSIG(*exit) != SIGKILL) {
      return "not reached: cricketd exited with wait status " + std::to_string(*exit);
    }
  } else if (action == CrashAction::kError && status.ok()) {
    return "not reached: the call succeeded";
  }
  const std::string fired = "fail point " + point + ": " + std::string(CrashActionName(action));
  bool seen = false;
  std::vector<std::string> logs = {dir_.Join("cricketd-" + std::to_string(fired_log) + ".log")};
  for (const auto& shim : Entries(state() + "/shims")) {
    logs.push_back(state() + "/shims/" + shim + "/shim.log");
  }
  for (const auto& log : logs) {
    seen = seen || ReadFile(log).value_or("").find(fired) != std::string::npos;
  }
  if (!seen) {
    return "not reached: no \"" + fired + "\" in the logs (the call returned " +
           StatusText(status) + ")";
  }
  if (action == CrashAction::kKill) {
    if (!StartDaemon("", &why)) {
      return "restart: " + why;
    }
  } else if (scenario.error_leaves_nothing) {
    NoteDaemonIds();
    if (auto left = leaks_->Leaks(daemon_->pid()); !left.empty()) {
      return "the failed call left " + left.front() + " (and " + std::to_string(left.size() - 1) +
             " more)";
    }
  }
  if (scenario.check) {
    if (std::string checked = scenario.check(*runtime_, action); !checked.empty()) {
      return checked;
    }
  }
  return "";
}

CrashRow CrashMatrixFixture::RunRow(const std::string& point, CrashAction action,
                                    const CrashScenario& scenario) {
  const auto start = std::chrono::steady_clock::now();
  const int first_log = starts_ + 1;
  CrashRow row{point, action, false, "", 0};
  std::string outcome = RunSteps(point, action, scenario);
  // Whatever happened, the row ends with everything removed by a daemon without fail points.
  std::string why;
  if (daemon_ == nullptr || !daemon_failpoints_.empty()) {
    if (!StartDaemon("", &why) && outcome.empty()) {
      outcome = "restart: " + why;
    }
  }
  if (runtime_ != nullptr) {
    if (std::string removed = RemoveEverything(); !removed.empty() && outcome.empty()) {
      outcome = "remove: " + removed;
    }
  }
  StopDaemon();
  NoteDaemonIds();
  if (auto left = leaks_->Leaks(); !left.empty()) {
    if (outcome.empty()) {
      outcome = "leaked " + std::to_string(left.size()) + ": " + left.front();
      for (size_t i = 1; i < left.size() && i < 4; ++i) {
        outcome += "; " + left[i];
      }
    }
    for (const auto& object : left) {
      std::cerr << point << "=" << CrashActionName(action) << " leaked " << object << "\n";
    }
    leaks_->Snapshot();  // the next row reports only its own
  }
  row.passed = outcome.empty();
  if (!row.passed) {
    failed_row_logs_.emplace_back(first_log, starts_);
  }
  row.outcome = row.passed ? "ok" : outcome;
  row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return row;
}

void CrashMatrixFixture::PrintTable(const std::vector<CrashRow>& rows, std::ostream& out) {
  size_t width = 10;
  for (const auto& row : rows) {
    width = std::max(width, row.point.size());
  }
  out << "\n"
      << std::left << std::setw(static_cast<int>(width)) << "fail point"
      << "  action  time    outcome\n";
  for (const auto& row : rows) {
    out << std::left << std::setw(static_cast<int>(width)) << row.point << "  " << std::setw(6)
        << CrashActionName(row.action) << "  " << std::fixed << std::setprecision(1) << std::setw(5)
        << row.seconds << "s  " << (row.passed ? "PASS " : "FAIL ") << row.outcome << "\n";
  }
  out << std::flush;
}

void CrashMatrixFixture::ExpectAllPassed(const std::vector<CrashRow>& rows) {
  for (const auto& row : rows) {
    EXPECT_TRUE(row.passed) << row.point << "=" << CrashActionName(row.action) << ": "
                            << row.outcome;
  }
}

void CrashMatrixFixture::RunMatrix(
    const std::vector<std::string_view>& prefixes,
    const std::function<CrashScenario(const std::string& point)>& scenario_for) {
  const char* filter = ::getenv("CRICKET_CRASH_ROWS");  // NOLINT(concurrency-mt-unsafe): tests
  const std::regex rows_wanted(filter != nullptr && *filter != '\0' ? filter : ".*");
  std::vector<CrashRow> rows;
  const auto points = FailPointsWithPrefix(prefixes);
  ASSERT_FALSE(points.empty());
  for (const auto& point : points) {
    for (CrashAction action : {CrashAction::kKill, CrashAction::kError}) {
      if (!std::regex_search(point + "=" + std::string(CrashActionName(action)), rows_wanted)) {
        continue;
      }
      rows.push_back(RunRow(point, action, scenario_for(point)));
      const CrashRow& row = rows.back();
      std::cout << "row " << row.point << "=" << CrashActionName(row.action) << ": "
                << (row.passed ? "PASS" : "FAIL ") << (row.passed ? "" : row.outcome) << " ("
                << row.seconds << "s)" << std::endl;
    }
  }
  PrintTable(rows, std::cout);
  ExpectAllPassed(rows);
}

}  // namespace cricket::testing
