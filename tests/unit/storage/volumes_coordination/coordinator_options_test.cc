#include <gtest/gtest.h>

#include "storage/volumes/coordination/coordinator.h"
#include "storage/volumes/coordination/etcd_endpoints.h"
#include "storage/volumes/coordination/head_record.h"
#include "tests/support/temp_dir.h"

namespace cricket::storage {
namespace {

void ExpectInvalid(const CoordinatorOptions& options, const std::string& mentions) {
  Result<std::unique_ptr<VolumeCoordinator>> made = MakeCoordinator(options);
  ASSERT_FALSE(made.ok()) << mentions;
  EXPECT_EQ(made.error().code(), Code::kInvalidArgument);
  EXPECT_NE(made.error().message().find(mentions), std::string::npos) << made.error().message();
}

TEST(MakeCoordinatorTest, UnknownBackendIsNamed) {
  CoordinatorOptions options;
  options.backend = "zookeeper";
  ExpectInvalid(options, "backend zookeeper");
}

TEST(MakeCoordinatorTest, LocalNeedsADirectory) {
  ExpectInvalid(CoordinatorOptions::Local(""), "local_dir");
}

TEST(MakeCoordinatorTest, EtcdNeedsEndpoints) {
  ExpectInvalid(CoordinatorOptions::Etcd({}), "at least one endpoint");
}

TEST(MakeCoordinatorTest, EtcdRejectsBadOptions) {
  ExpectInvalid(CoordinatorOptions::Etcd({"127.0.0.1:2379"}), "127.0.0.1:2379");
  ExpectInvalid(CoordinatorOptions::Etcd({"https://10.0.0.1:2379"}), "https");
  CoordinatorOptions short_ttl = CoordinatorOptions::Etcd({"http://127.0.0.1:2379"});
  short_ttl.lease_ttl = std::chrono::seconds(0);
  ExpectInvalid(short_ttl, "lease_ttl");
  CoordinatorOptions prefix = CoordinatorOptions::Etcd({"http://127.0.0.1:2379"});
  prefix.etcd_prefix = "/cricket";
  ExpectInvalid(prefix, "etcd_prefix");
}

TEST(MakeCoordinatorTest, BuildsEachBackendWithoutContactingIt) {
  testing::TempDir dir("volcoord");
  EXPECT_TRUE(MakeCoordinator(CoordinatorOptions::Local(dir.Join("c"))).ok());
  EXPECT_TRUE(MakeCoordinator(CoordinatorOptions::Etcd({"http://127.0.0.1:1"})).ok());
}

TEST(EtcdChannelTargetTest, MapsUrlsToGrpcTargets) {
  EXPECT_EQ(*EtcdChannelTarget({"http://127.0.0.1:2379"}), "ipv4:127.0.0.1:2379");
  EXPECT_EQ(*EtcdChannelTarget({"http://127.0.0.1:2379/"}), "ipv4:127.0.0.1:2379");
  EXPECT_EQ(*EtcdChannelTarget({"http://[::1]:2379"}), "ipv6:[::1]:2379");
  EXPECT_EQ(*EtcdChannelTarget({"http://etcd.local:2379"}), "dns:///etcd.local:2379");
  EXPECT_EQ(*EtcdChannelTarget({"http://10.0.0.1:2379", "http://10.0.0.2:2379"}),
            "ipv4:10.0.0.1:2379,10.0.0.2:2379");
}

TEST(EtcdChannelTargetTest, RejectsMalformedEndpoints) {
  for (const std::vector<std::string>& bad :
       std::vector<std::vector<std::string>>{{},
                                             {"http://127.0.0.1"},
                                             {"http://127.0.0.1:0"},
                                             {"http://127.0.0.1:99999"},
                                             {"http://127.0.0.1:2379/v3"},
                                             {"http://[::1:2379"},
                                             {"grpc://127.0.0.1:2379"},
                                             {"http://a.local:2379", "http://b.local:2379"},
                                             {"http://10.0.0.1:2379", "http://[::1]:2379"}}) {
    Result<std::string> target = EtcdChannelTarget(bad);
    ASSERT_FALSE(target.ok()) << (bad.empty() ? "(none)" : bad.back());
    EXPECT_EQ(target.error().code(), Code::kInvalidArgument);
  }
}

TEST(VolumeNameTest, AcceptsPathAndKeySafeNames) {
  EXPECT_TRUE(ValidateVolumeName("data").ok());
  EXPECT_TRUE(ValidateVolumeName("pg-data_1.v2").ok());
  EXPECT_FALSE(ValidateVolumeName(std::string(129, 'a')).ok());
  EXPECT_FALSE(ValidateVolumeName("..").ok());
  EXPECT_FALSE(ValidateVolumeName("a\nb").ok());
  EXPECT_TRUE(ValidateNodeName("worker-1.example.com").ok());
  EXPECT_FALSE(ValidateNodeName("a\tb").ok());
}

TEST(HeadRecordTest, RoundTripsAndRejectsGarbage) {
  VolumeHead head{.manifest_digest = "sha256:ab", .token = 1234567890123};
  Result<VolumeHead> back = DecodeHead(EncodeHead(head), "k");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->manifest_digest, head.manifest_digest);
  EXPECT_EQ(back->token, head.token);
  for (const char* bad : {"", "[]", "{\"manifest_digest\":1,\"token\":1}",
                          "{\"manifest_digest\":\"x\"}", "{not json"}) {
    Result<VolumeHead> decoded = DecodeHead(bad, "/cricket/volumes/v/head");
    ASSERT_FALSE(decoded.ok()) << bad;
    EXPECT_EQ(decoded.error().code(), Code::kDataLoss);
    EXPECT_NE(decoded.error().message().find("/cricket/volumes/v/head"), std::string::npos);
  }
}

}  // namespace
}  // namespace cricket::storage
