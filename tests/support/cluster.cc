#include "tests/support/cluster.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "common/files.h"
#include "common/subprocess.h"
#include "tests/support/cricketd_process.h"

namespace cricket::testing {
namespace {

std::map<std::string, std::string> ParseEnv(const std::string& text) {
  std::map<std::string, std::string> env;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) {
      env[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  return env;
}

std::string FormatDouble(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// Clusters of test processes that died before their teardown (killed on a timeout): their
// directory is named after their PID, and `down` still removes all they made.
void SweepDeadClusters() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/tmp", ec)) {
    const std::string name = entry.path().filename();
    int pid = 0;
    int matched = -1;  // %n is only set when the whole pattern matched
    // NOLINTNEXTLINE(cert-err34-c): a mismatch is what `matched` tells
    (void)std::sscanf(name.c_str(), "crtest-%d-cluster-%n", &pid, &matched);
    const std::string dir = entry.path().string() + "/c";
    if (matched < 0 || pid <= 0 || !std::filesystem::exists(dir + "/cluster.env", ec) ||
        ::kill(pid, 0) == 0 || errno != ESRCH) {
      continue;
    }
    (void)std::fprintf(stderr, "removing the cluster a dead test left in %s\n", dir.c_str());
    (void)RunSubprocess({CRICKET_CLUSTER_SCRIPT, "down", "--dir", dir},
                        {.timeout = std::chrono::seconds(120)});
    std::filesystem::remove(entry.path(), ec);
  }
}

}  // namespace

bool Cluster::Run(const std::vector<std::string>& args, std::string* output, int timeout_s) {
  std::vector<std::string> argv = {CRICKET_CLUSTER_SCRIPT};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--dir", dir_});
  SubprocessOptions options;
  options.timeout = std::chrono::seconds(timeout_s);
  auto ran = RunSubprocess(argv, options);
  if (!ran.ok()) {
    *output = ran.error().ToString();
    return false;
  }
  *output = ran->out + ran->err;
  return ran->exit_code == 0;
}

std::unique_ptr<Cluster> Cluster::Up(const ClusterOptions& options, std::string* error) {
  SweepDeadClusters();
  std::unique_ptr<Cluster> cluster(new Cluster());
  std::string pattern = "/tmp/crtest-" + std::to_string(::getpid()) + "-cluster-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    *error = "mkdtemp " + pattern;
    return nullptr;
  }
  cluster->parent_ = pattern;
  cluster->dir_ = pattern + "/c";
  cluster->down_ = false;
  // Named after this process and directory, so parallel test binaries never share a netns.
  const std::string name =
      "crtest-" + std::to_string(::getpid()) + "-" + pattern.substr(pattern.size() - 6);
  std::string output;
  if (!cluster->Run({"up", "--nodes", std::to_string(options.nodes), "--name", name, "--cricketd",
                     CRICKETD_PATH, "--lease-ttl", std::to_string(options.lease_ttl_seconds),
                     "--snapshot-interval", FormatDouble(options.snapshot_interval_seconds),
                     "--etcd-timeout-ms", std::to_string(options.etcd_timeout_ms), "--log-level",
                     options.log_level},
                    &output)) {
    *error = "hack/cluster up: " + output;
    return nullptr;  // up removed what it made; the destructor removes the parent dir
  }
  auto listed = ReadFile(cluster->dir_ + "/cluster.env");
  if (!listed.ok()) {
    *error = listed.error().ToString();
    return nullptr;
  }
  auto env = ParseEnv(*listed);
  cluster->etcd_ = env["ETCD"];
  cluster->registry_ = env["REGISTRY"];
  cluster->image_ = env["IMAGE"];
  cluster->portable_root_ = env["PORTABLE_ROOT"];
  std::istringstream letters(env["NODES"]);
  for (std::string letter; letters >> letter;) {
    ClusterNode node;
    node.letter = letter;
    const std::string prefix = "NODE_" + letter + "_";
    node.name = env[prefix + "NAME"];
    node.netns = env[prefix + "NETNS"];
    node.address = env[prefix + "ADDRESS"];
    node.dir = env[prefix + "DIR"];
    node.root = env[prefix + "ROOT"];
    node.socket = env[prefix + "SOCKET"];
    cluster->nodes_.push_back(std::move(node));
  }
  for (ClusterNode& node : cluster->nodes_) {
    if (!cluster->Connect(node, error)) {
      return nullptr;
    }
  }
  return cluster;
}

bool Cluster::Serving(const ClusterNode& node) {
  if (!node.runtime) {
    return false;
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  ::runtime::v1::VersionResponse version;
  return node.runtime->Version(&ctx, {}, &version).ok();
}

bool Cluster::Connect(ClusterNode& node, std::string* error) {
  auto channel = UnixChannel(node.socket);
  node.runtime = ::runtime::v1::RuntimeService::NewStub(channel);
  node.images = ::runtime::v1::ImageService::NewStub(channel);
  node.admin = ::cricket::admin::v1::Volumes::NewStub(channel);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (Serving(node)) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  *error = "cricketd of " + node.name + " does not answer on " + node.socket + ":\n" + Logs(node);
  return false;
}

bool Cluster::SetLink(const ClusterNode& node, bool up, std::string* error) {
  return Run({"link", "--node", node.letter, up ? "up" : "down"}, error);
}

bool Cluster::SetService(const std::string& service, bool running, std::string* error) {
  return Run({"service", service, running ? "start" : "stop"}, error);
}

bool Cluster::StartNode(ClusterNode& node, std::string* error) {
  return Run({"node", "--node", node.letter, "start"}, error) && Connect(node, error);
}

std::string Cluster::Logs(const ClusterNode& node) {
  std::string all;
  for (int i = 1;; ++i) {
    auto log = ReadFile(node.dir + "/cricketd-" + std::to_string(i) + ".log");
    if (!log.ok()) {
      return all;
    }
    all += "--- " + node.name + " cricketd start " + std::to_string(i) + ":\n" + *log;
  }
}

bool Cluster::Down(std::string* error) {
  if (down_) {
    return true;
  }
  for (ClusterNode& node : nodes_) {
    node.runtime.reset();
    node.images.reset();
    node.admin.reset();
  }
  if (!Run({"down"}, error)) {
    return false;  // the directory is kept: something in it could not be removed
  }
  down_ = true;
  std::error_code ec;
  std::filesystem::remove(parent_, ec);  // empty now: never crosses a mount
  return true;
}

Cluster::~Cluster() {
  std::string error;
  if (!Down(&error)) {
    (void)std::fprintf(stderr, "hack/cluster down --dir %s failed: %s\n", dir_.c_str(), error.c_str());
  }
  if (down_ && !parent_.empty()) {
    std::error_code ec;
    std::filesystem::remove(parent_, ec);
  }
}

}  // namespace cricket::testing
