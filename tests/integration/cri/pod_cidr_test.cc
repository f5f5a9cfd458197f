// UpdateRuntimeConfig through cricketd (root): kubelet's pod CIDR becomes the bridge's range of
// new pods, older pods keep theirs, a restart keeps it; overlapping or malformed CIDRs are
// refused; an explicit network.subnet wins; with CNI a template is filled in.
//
// The CIDRs are private 10.2xx ranges derived from the pid, which this host routes nowhere (its
// only routes are its LAN and the default route) and which no pod traffic leaves.

#include <unistd.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "network/netlink.h"
#include "tests/integration/cri/pod_fixture.h"

namespace cricket::testing {
namespace {

// 10.<200..249>.<0..249>.0/<prefix>, a different third octet per `slot`.
std::string TestCidr(int slot, int prefix = 24) {
  const int pid = ::getpid();
  return "10." + std::to_string(200 + pid % 50) + "." + std::to_string((pid / 50 + slot) % 250) +
         ".0/" + std::to_string(prefix);
}

bool InCidr(const std::string& ip, const std::string& cidr) {
  auto range = network::Ipv4Cidr::Parse(cidr);
  auto addr = network::Ipv4::Parse(ip);
  return range.ok() && addr.ok() && range->Contains(*addr);
}

class PodCidrTest : public PodFixture {
 protected:
  grpc::Status UpdatePodCidr(const std::string& cidr) {
    grpc::ClientContext ctx;
    v1::UpdateRuntimeConfigRequest req;
    req.mutable_runtime_config()->mutable_network_config()->set_pod_cidr(cidr);
    v1::UpdateRuntimeConfigResponse resp;
    return runtime_->UpdateRuntimeConfig(&ctx, req, &resp);
  }

  std::string PodIp(const std::string& pod) {
    grpc::ClientContext ctx;
    v1::PodSandboxStatusRequest req;
    req.set_pod_sandbox_id(pod);
    v1::PodSandboxStatusResponse resp;
    EXPECT_TRUE(runtime_->PodSandboxStatus(&ctx, req, &resp).ok());
    return resp.status().network().ip();
  }

  nlohmann::json VerboseConfig() {
    grpc::ClientContext ctx;
    v1::StatusRequest req;
    req.set_verbose(true);
    v1::StatusResponse resp;
    EXPECT_TRUE(runtime_->Status(&ctx, req, &resp).ok());
    return nlohmann::json::parse(resp.info().at("config"));
  }

  std::string Bridge() const { return "crd" + std::to_string(::getpid() % 100000); }
  std::string LeasePath(const std::string& ip) const {
    return root() + "/network/" + Bridge() + "/leases/" + ip;
  }

  // Restarts cricketd with `network` as its whole [network] section.
  void RestartWithNetwork(const std::string& network) {
    daemon_.reset();
    ASSERT_TRUE(WriteFileAtomic(config_path_, "[network]\n" + network, 0644).ok());
    Start();
  }
};

TEST_F(PodCidrTest, NewPodsGetThePodCidrOlderPodsKeepTheirsAndARestartKeepsIt) {
  const std::string cidr = TestCidr(0);
  auto old_config = PodConfig("before");
  const std::string old_pod = RunPod(old_config);
  const std::string old_ip = PodIp(old_pod);
  ASSERT_TRUE(InCidr(old_ip, "10.88.0.0/16")) << old_ip;

  grpc::Status updated = UpdatePodCidr(cidr);
  ASSERT_TRUE(updated.ok()) << updated.error_message();
  const std::string new_pod = RunPod(PodConfig("after"));
  EXPECT_TRUE(InCidr(PodIp(new_pod), cidr)) << PodIp(new_pod) << " not in " << cidr;
  EXPECT_EQ(PodIp(old_pod), old_ip);
  EXPECT_EQ(VerboseConfig()["network"]["podCidr"], cidr);
  EXPECT_TRUE(UpdatePodCidr(cidr).ok());  // the same again: a no-op

  // The older pod goes as usual, its lease with it.
  ASSERT_TRUE(std::filesystem::exists(LeasePath(old_ip)));
  grpc::Status removed = StopAndRemovePod(*runtime_, old_pod);
  EXPECT_TRUE(removed.ok()) << removed.error_message();
  EXPECT_FALSE(std::filesystem::exists(LeasePath(old_ip)));

  // kubelet reads the cgroup driver and the handlers through these; they stay.
  grpc::ClientContext rc_ctx;
  v1::RuntimeConfigResponse runtime_config;
  ASSERT_TRUE(runtime_->RuntimeConfig(&rc_ctx, {}, &runtime_config).ok());
  EXPECT_EQ(runtime_config.linux().cgroup_driver(), v1::CgroupDriver::CGROUPFS);
  grpc::ClientContext st_ctx;
  v1::StatusResponse status;
  ASSERT_TRUE(runtime_->Status(&st_ctx, {}, &status).ok());
  ASSERT_GE(status.runtime_handlers_size(), 1);
  EXPECT_EQ(status.runtime_handlers(0).name(), "");

  // A restart serves the saved CIDR before kubelet says anything.
  daemon_.reset();
  Start();
  const std::string restarted_pod = RunPod(PodConfig("restarted"));
  EXPECT_TRUE(InCidr(PodIp(restarted_pod), cidr)) << PodIp(restarted_pod);
  EXPECT_EQ(ReadFile(root() + "/network/pod-cidr").value_or(""), cidr + "\n");
}

// A bridge of the test's own holding an address, removed however the test ends.
class TestBridge {
 public:
  explicit TestBridge(std::string name) : name_(std::move(name)) {}
  ~TestBridge() {
    if (auto nl = network::Netlink::Open(); nl.ok()) {
      (void)nl->DeleteLink(name_);
    }
  }
  Result<void> Create(const std::string& address, int prefix) {
    CR_ASSIGN_OR_RETURN(network::Netlink nl, network::Netlink::Open());
    CR_RETURN_IF_ERROR(nl.CreateBridge(name_, 1500));
    CR_ASSIGN_OR_RETURN(int index, nl.LinkIndex(name_));
    CR_ASSIGN_OR_RETURN(network::Ipv4 ip, network::Ipv4::Parse(address));
    return nl.AddAddress(index, ip, prefix);
  }

 private:
  std::string name_;
};

TEST_F(PodCidrTest, OverlappingMalformedAndIpv6OnlyCidrsAreRefused) {
  const std::string other = "crtest-" + std::to_string(::getpid() % 100000) + "-b";
  TestBridge bridge(other);
  const std::string taken = TestCidr(1);
  const std::string taken_ip = taken.substr(0, taken.rfind(".0/")) + ".1";
  ASSERT_TRUE(bridge.Create(taken_ip, 24).ok());

  const std::string inside = TestCidr(1, 25);
  grpc::Status overlap = UpdatePodCidr(inside);
  EXPECT_EQ(overlap.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(overlap.error_message().find("pod CIDR " + inside + " overlaps the node's"),
            std::string::npos)
      << overlap.error_message();
  EXPECT_NE(overlap.error_message().find(other), std::string::npos) << overlap.error_message();

  grpc::Status malformed = UpdatePodCidr("10.244.0.0/33");
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(malformed.error_message().find("runtime_config.network_config.pod_cidr: invalid CIDR"),
            std::string::npos)
      << malformed.error_message();

  grpc::Status ipv6 = UpdatePodCidr("fd00:10:244::/64");
  EXPECT_EQ(ipv6.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(ipv6.error_message().find("IPv4 only"), std::string::npos) << ipv6.error_message();

  // Nothing changed: new pods still come from the configured range, nothing was saved.
  const std::string pod = RunPod(PodConfig("unchanged"));
  EXPECT_TRUE(InCidr(PodIp(pod), "10.88.0.0/16")) << PodIp(pod);
  EXPECT_FALSE(std::filesystem::exists(root() + "/network/pod-cidr"));
}

TEST_F(PodCidrTest, ExplicitSubnetWinsOverKubelet) {
  const std::string configured = TestCidr(2);
  RestartWithNetwork("backend = \"bridge\"\nbridge = \"" + Bridge() + "\"\nsubnet = \"" +
                     configured + "\"\ncni_conf_dir = \"" + dir_.Join("net.d") + "\"\n");
  grpc::Status updated = UpdatePodCidr(TestCidr(3));
  ASSERT_TRUE(updated.ok()) << updated.error_message();
  const std::string pod = RunPod(PodConfig("explicit"));
  EXPECT_TRUE(InCidr(PodIp(pod), configured)) << PodIp(pod);
  EXPECT_NE(ReadFile(dir_.Join("cricketd-2.log"))
                .value_or("")
                .find("not used: network.subnet = " + configured + " is set"),
            std::string::npos);
}

TEST_F(PodCidrTest, CniTemplateIsFilledWithThePodCidr) {
  const std::string tmpl = dir_.Join("cni.tmpl");
  ASSERT_TRUE(WriteFileAtomic(tmpl,
                              "{\"cniVersion\": \"1.0.0\", \"name\": \"crtest\", \"plugins\": "
                              "[{\"type\": \"bridge\", \"ipam\": {\"type\": \"host-local\", "
                              "\"ranges\": [{{range $i, $r := .PodCIDRRanges}}{{if $i}}, "
                              "{{end}}[{\"subnet\": \"{{$r}}\"}]{{end}}]}}]}",
                              0644)
                  .ok());
  RestartWithNetwork("backend = \"cni\"\nbridge = \"" + Bridge() + "\"\ncni_conf_dir = \"" +
                     dir_.Join("net.d") + "\"\ncni_conf_template = \"" + tmpl + "\"\n");
  const std::string cidr = TestCidr(4) + ",fd00:10:244:1::/64";
  grpc::Status updated = UpdatePodCidr(cidr);
  ASSERT_TRUE(updated.ok()) << updated.error_message();
  auto conf = ReadFile(dir_.Join("net.d/10-cricket-net.conflist"));
  ASSERT_TRUE(conf.ok()) << conf.error().ToString();
  EXPECT_NE(
      conf->find("[{\"subnet\": \"" + TestCidr(4) + "\"}], [{\"subnet\": \"fd00:10:244:1::/64\"}]"),
      std::string::npos)
      << *conf;
}

}  // namespace
}  // namespace cricket::testing
