#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/version.h"
#include "cri/service.h"
#include "tests/support/temp_dir.h"

namespace cricket::cri {
namespace {

using ::cricket::testing::TempDir;

constexpr std::string_view kHybridMountinfo =
    "31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
    "35 30 0:31 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";

class RuntimeStatusTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = MetadataStore::Open(dir_.path()).value(); }

  CriService Service(Result<oci::CgroupInfo> cgroups) {
    CriDeps deps;
    deps.config = &config_;
    deps.store = store_.get();
    deps.cgroups = std::move(cgroups);
    deps.network = Error(Code::kUnavailable, "iptables is not installed");
    return CriService(std::move(deps));
  }

  TempDir dir_;
  Config config_;
  std::unique_ptr<MetadataStore> store_;
};

const v1::RuntimeCondition* FindCondition(const v1::StatusResponse& resp, const std::string& type) {
  for (const auto& c : resp.status().conditions()) {
    if (c.type() == type) {
      return &c;
    }
  }
  return nullptr;
}

TEST_F(RuntimeStatusTest, VersionNamesCricket) {
  auto service = Service(oci::ParseCgroupMounts(kHybridMountinfo));
  v1::VersionResponse resp;
  ASSERT_TRUE(service.Version({}, resp).ok());
  EXPECT_EQ(resp.runtime_name(), "cricket");
  EXPECT_EQ(resp.runtime_version(), kVersion);
  EXPECT_EQ(resp.runtime_api_version(), "v1");
  EXPECT_EQ(resp.version(), "0.1.0");
}

TEST_F(RuntimeStatusTest, RuntimeReadyWhenStoreAndCgroupsWork) {
  auto service = Service(oci::ParseCgroupMounts(kHybridMountinfo));
  v1::StatusResponse resp;
  ASSERT_TRUE(service.Status({}, resp).ok());
  const auto* runtime = FindCondition(resp, "RuntimeReady");
  ASSERT_NE(runtime, nullptr);
  EXPECT_TRUE(runtime->status());
  const auto* network = FindCondition(resp, "NetworkReady");
  ASSERT_NE(network, nullptr);
  EXPECT_FALSE(network->status());  // the network could not be set up
  EXPECT_EQ(network->reason(), "NetworkPluginNotReady");
  EXPECT_EQ(network->message(), "iptables is not installed");
  EXPECT_TRUE(resp.info().empty());  // only with verbose
}

TEST_F(RuntimeStatusTest, RuntimeNotReadyWithoutCgroups) {
  auto service = Service(Error(Code::kFailedPrecondition, "no cgroup filesystem is mounted"));
  v1::StatusResponse resp;
  ASSERT_TRUE(service.Status({}, resp).ok());
  const auto* runtime = FindCondition(resp, "RuntimeReady");
  ASSERT_NE(runtime, nullptr);
  EXPECT_FALSE(runtime->status());
  EXPECT_EQ(runtime->reason(), "RuntimeNotReady");
  EXPECT_EQ(runtime->message(), "detect cgroups: no cgroup filesystem is mounted");
}

TEST_F(RuntimeStatusTest, VerboseInfoIsJson) {
  auto service = Service(oci::ParseCgroupMounts(kHybridMountinfo));
  v1::StatusRequest req;
  req.set_verbose(true);
  v1::StatusResponse resp;
  ASSERT_TRUE(service.Status(req, resp).ok());
  auto cgroup = nlohmann::json::parse(resp.info().at("cgroup"));
  EXPECT_EQ(cgroup["version"], "hybrid");
  EXPECT_EQ(cgroup["driver"], "cgroupfs");
  auto config = nlohmann::json::parse(resp.info().at("config"));
  EXPECT_EQ(config["root"], "/var/lib/cricket");
  EXPECT_EQ(config["network"]["backend"], "unavailable");
  EXPECT_EQ(config["network"]["subnet"], "10.88.0.0/16");
  auto versions = nlohmann::json::parse(resp.info().at("versions"));
  EXPECT_TRUE(versions.contains("grpc"));
  EXPECT_TRUE(versions.contains("sqlite"));
}

TEST_F(RuntimeStatusTest, RuntimeConfigReportsDriver) {
  config_.cgroup_driver = CgroupDriver::kSystemd;
  auto service = Service(oci::ParseCgroupMounts(kHybridMountinfo));
  v1::RuntimeConfigResponse resp;
  ASSERT_TRUE(service.RuntimeConfig({}, resp).ok());
  EXPECT_EQ(resp.linux().cgroup_driver(), v1::CgroupDriver::SYSTEMD);
}

}  // namespace
}  // namespace cricket::cri
