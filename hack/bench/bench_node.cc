#include "hack/bench/bench_node.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <utility>

#include "common/files.h"
#include "network/bridge_network.h"

namespace cricket::bench {

namespace {
constexpr const char* kIpForward = "/proc/sys/net/ipv4/ip_forward";

void EvictFromPageCache(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

void EvictCricketFilesIn(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec) && entry.path().filename().string().starts_with("cricket")) {
      EvictFromPageCache(entry.path());
    }
  }
}
}  // namespace

void EvictCricketBinaries(const std::string& cricketd_path) {
  const auto dir = std::filesystem::path(cricketd_path).parent_path();
  EvictCricketFilesIn(dir);
  std::error_code ec;
  for (const auto& sibling : std::filesystem::directory_iterator(dir.parent_path(), ec)) {
    if (sibling.is_directory(ec) && sibling.path() != dir) {
      EvictCricketFilesIn(sibling.path());
    }
  }
}

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
  if (!dir_.empty() && !keep_dir_) {
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

std::string PortableVolumesToml(std::string_view shared, std::string_view node_name) {
  const std::string dir(shared);
  std::error_code ec;
  std::filesystem::create_directories(dir + "/portable", ec);
  return "[volumes]\nportable_root = \"" + dir + "/portable\"\nnode_name = \"" +
         std::string(node_name) + "\"\ncoordination_dir = \"" + dir +
         "/coordination\"\nsnapshot_dir = \"" + dir +
         "/store\"\nsnapshot_interval_seconds = 3600\n";
}

}  // namespace cricket::bench
