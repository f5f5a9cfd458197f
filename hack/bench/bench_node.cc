#include "hack/bench/bench_node.h"

#include <stdlib.h>
#include <sys/mount.h>

#include <filesystem>
#include <utility>

#include "common/files.h"
#include "network/bridge_network.h"

namespace cricket::bench {

namespace {
constexpr const char* kIpForward = "/proc/sys/net/ipv4/ip_forward";
}  // namespace

BenchNode::BenchNode(std::string_view name, std::string bridge)
    : bridge_(std::move(bridge)), ip_forward_(ReadFile(kIpForward).value_or("0\n")) {
  std::string tmpl = "/tmp/crbench-" + std::string(name) + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) != nullptr) {
    dir_ = tmpl;
  }
  std::error_code ec;
  std::filesystem::create_directories(state(), ec);
  state_on_tmpfs_ = ::mount("tmpfs", state().c_str(), "tmpfs", 0, "mode=0711") == 0;
}

BenchNode::~BenchNode() {
  // The same bridge as the config: Destroy finds its rules whatever their subnet.
  network::BridgeOptions options;
  options.bridge = bridge_;
  options.data_dir = root() + "/network/" + bridge_;
  if (auto net = network::BridgeNetwork::Create(options); net.ok()) {
    (void)(*net)->Destroy();
  }
  (void)WriteKernelFile(kIpForward, ip_forward_);
  if (state_on_tmpfs_) {
    ::umount2(state().c_str(), MNT_DETACH);
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

bool BenchNode::WriteConfig(std::string_view subnet, std::string_view sections) const {
  std::string config(sections);
  if (!config.empty() && !config.ends_with("\n\n")) {
    config += config.ends_with('\n') ? "\n" : "\n\n";
  }
  config += "[network]\nbackend = \"bridge\"\nbridge = \"" + bridge_ + "\"\nsubnet = \"" +
            std::string(subnet) + "\"\ncni_conf_dir = \"" + dir_ + "/net.d\"\n";
  return WriteFileAtomic(dir_ + "/config.toml", config, 0644).ok();
}

std::vector<std::string> BenchNode::CricketdArgs() const {
  return {"--root",      root(), "--state", state(), "--config", dir_ + "/config.toml",
          "--log-level", "warn"};
}

}  // namespace cricket::bench
