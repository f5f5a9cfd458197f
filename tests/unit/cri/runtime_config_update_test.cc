// UpdateRuntimeConfig's handler through the fake pod network: what reaches the network, and
// how its errors come back.

#include <gtest/gtest.h>

#include "cri/service.h"
#include "tests/unit/cri/fake_shims.h"

namespace cricket::cri {
namespace {

using ::cricket::cri::testing::FakeNetwork;

v1::UpdateRuntimeConfigRequest WithPodCidr(const std::string& cidr) {
  v1::UpdateRuntimeConfigRequest req;
  req.mutable_runtime_config()->mutable_network_config()->set_pod_cidr(cidr);
  return req;
}

class RuntimeConfigUpdateTest : public ::testing::Test {
 protected:
  CriService Service(Result<network::PodNetworking*> net) {
    CriDeps deps;
    deps.config = &config_;
    deps.network = net;
    return CriService(std::move(deps));
  }

  Config config_;
  FakeNetwork network_;
};

TEST_F(RuntimeConfigUpdateTest, PassesThePodCidrToTheNetwork) {
  auto service = Service(&network_);
  v1::UpdateRuntimeConfigResponse resp;
  ASSERT_TRUE(service.UpdateRuntimeConfig(WithPodCidr("10.244.1.0/24"), resp).ok());
  EXPECT_EQ(network_.pod_cidrs, std::vector<std::string>{"10.244.1.0/24"});
}

TEST_F(RuntimeConfigUpdateTest, EmptyPodCidrChangesNothing) {
  auto service = Service(&network_);
  v1::UpdateRuntimeConfigResponse resp;
  ASSERT_TRUE(service.UpdateRuntimeConfig({}, resp).ok());
  EXPECT_TRUE(network_.pod_cidrs.empty());
}

TEST_F(RuntimeConfigUpdateTest, NetworkErrorNamesTheField) {
  network_.update_pod_cidr = Error(Code::kInvalidArgument, "invalid CIDR \"10.0.0.0/33\"");
  auto service = Service(&network_);
  v1::UpdateRuntimeConfigResponse resp;
  auto result = service.UpdateRuntimeConfig(WithPodCidr("10.0.0.0/33"), resp);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(result.error().message(),
            "runtime_config.network_config.pod_cidr: invalid CIDR \"10.0.0.0/33\"");
}

TEST_F(RuntimeConfigUpdateTest, WithoutPodNetworkFailsPrecondition) {
  auto service = Service(Error(Code::kUnavailable, "iptables is not installed"));
  v1::UpdateRuntimeConfigResponse resp;
  auto result = service.UpdateRuntimeConfig(WithPodCidr("10.244.1.0/24"), resp);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(result.error().message().find("iptables is not installed"), std::string::npos);
}

}  // namespace
}  // namespace cricket::cri
