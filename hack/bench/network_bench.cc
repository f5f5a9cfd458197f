// Times pod network setup + teardown with the built-in bridge and with a CNI chain (Debian's
// bridge + host-local + portmap), in private network and mount namespaces so the node is not
// touched. Prints one JSON object.
//
//   bench_network [--pods N] [--cni-bin-dir DIR]

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "network/bridge_network.h"
#include "network/cni_network.h"
#include "network/netlink.h"
#include "network/netns.h"
#include "tests/support/isolated_netns.h"

namespace {

using cricket::network::PodNetwork;
using cricket::network::PodNetworkConfig;
using Clock = std::chrono::steady_clock;

struct Timings {
  std::vector<double> setup_ms;
  std::vector<double> teardown_ms;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

nlohmann::json Summary(const Timings& t) {
  return {{"setup_median_ms", Percentile(t.setup_ms, 0.5)},
          {"setup_p90_ms", Percentile(t.setup_ms, 0.9)},
          {"teardown_median_ms", Percentile(t.teardown_ms, 0.5)},
          {"teardown_p90_ms", Percentile(t.teardown_ms, 0.9)},
          {"pods", t.setup_ms.size()}};
}

// Netns creation is the CRI layer's job in both cases, so it is outside the timed part.
bool Run(PodNetwork& net, const std::string& dir, int pods, Timings& out) {
  for (int i = 0; i < pods; ++i) {
    PodNetworkConfig pod;
    pod.sandbox_id = "bench-" + std::to_string(i);
    pod.netns_path = dir + "/netns-" + pod.sandbox_id;
    pod.pod_name = pod.sandbox_id;
    pod.pod_namespace = "bench";
    if (!cricket::network::CreateNetns(pod.netns_path).ok()) {
      return false;
    }
    auto t0 = Clock::now();
    auto status = net.Setup(pod);
    auto t1 = Clock::now();
    if (!status.ok()) {
      std::fprintf(stderr, "setup: %s\n", status.error().ToString().c_str());
      return false;
    }
    auto down = net.Teardown(pod);
    auto t2 = Clock::now();
    if (!down.ok()) {
      std::fprintf(stderr, "teardown: %s\n", down.error().ToString().c_str());
      return false;
    }
    (void)cricket::network::RemoveNetns(pod.netns_path);
    out.setup_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    out.teardown_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int pods = 50;
  std::string cni_bin = "/usr/lib/cni";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--pods") {
      pods = std::atoi(argv[i + 1]);
    } else if (flag == "--cni-bin-dir") {
      cni_bin = argv[i + 1];
    }
  }
  if (!cricket::testing::EnterIsolatedNetwork()) {
    std::fputs("bench_network needs root\n", stderr);
    return 2;
  }
  char tmpl[] = "/tmp/cricket-bench-net-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  nlohmann::json result = {{"benchmark", "network"}};

  cricket::network::BridgeOptions bridge;
  bridge.bridge = "crbench0";
  bridge.subnet = *cricket::network::Ipv4Cidr::Parse("10.196.0.0/16");
  bridge.data_dir = dir + "/bridge";
  auto builtin = cricket::network::BridgeNetwork::Create(bridge);
  Timings builtin_t;
  if (builtin.ok() && Run(**builtin, dir, pods, builtin_t)) {
    result["builtin"] = Summary(builtin_t);
  }
  if (builtin.ok()) {
    (void)(*builtin)->Destroy();
  }

  std::string conf_dir = dir + "/net.d";
  (void)cricket::MakeDirs(conf_dir, 0755);
  (void)cricket::WriteFileAtomic(conf_dir + "/10-bench.conflist", R"({
    "cniVersion": "1.0.0", "name": "bench",
    "plugins": [
      {"type": "bridge", "bridge": "crbench1", "isGateway": true, "ipMasq": true,
       "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.195.0.0/16"}]],
                "routes": [{"dst": "0.0.0.0/0"}], "dataDir": ")" + dir + R"(/ipam"}},
      {"type": "portmap", "capabilities": {"portMappings": true}}
    ]})", 0644);
  cricket::network::CniOptions cni;
  cni.conf_dir = conf_dir;
  cni.bin_dirs = {cni_bin};
  cni.cache_dir = dir + "/cni-cache";
  auto chain = cricket::network::CniNetwork::Create(cni);
  Timings cni_t;
  if (chain.ok() && (*chain)->Ready().ok() && Run(**chain, dir, pods, cni_t)) {
    result["cni"] = Summary(cni_t);
  } else {
    result["cni"] = "unavailable: CNI plugins not found in " + cni_bin;
  }
  if (result.contains("builtin") && result["cni"].is_object()) {
    result["builtin_to_cni_setup_ratio"] =
        result["builtin"]["setup_median_ms"].get<double>() /
        result["cni"]["setup_median_ms"].get<double>();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::printf("%s\n", result.dump(2).c_str());
  return result.contains("builtin") ? 0 : 1;
}
