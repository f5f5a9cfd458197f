#include "storage/volumes/volumes_config.h"

#include <gtest/gtest.h>

#include "tests/support/toml_text.h"

namespace cricket::storage {
namespace {

using ::cricket::testing::ApplySectionToml;
using ::cricket::testing::RenderSection;

Result<void> ApplyVolumes(std::string_view text, std::string_view source, VolumesConfig& config) {
  return ApplySectionToml(text, source, "volumes", ApplyVolumesToml, config);
}

TEST(ConfigVolumesTest, DefaultsWorkOnOneNode) {
  VolumesConfig config;
  EXPECT_EQ(config.portable_root, "/var/lib/cricket/portable");
  EXPECT_EQ(config.coordination, "local");
  EXPECT_EQ(config.snapshot_store, "dir");
  EXPECT_EQ(config.lease_ttl_seconds, 10);
  EXPECT_EQ(config.snapshot_interval_seconds, 30);
  EXPECT_EQ(config.squash_after_layers, 8);
}

TEST(ConfigVolumesTest, ParsesEveryKey) {
  VolumesConfig config;
  auto applied = ApplyVolumes(
      "[volumes]\nportable_root = \"/srv/portable/\"\nnode_name = \"edge-1\"\n"
      "coordination = \"etcd\"\netcd_endpoints = [\"http://10.0.0.1:2379\"]\n"
      "lease_ttl_seconds = 5\nsnapshot_store = \"oci\"\n"
      "snapshot_repository = \"127.0.0.1:5000/vols\"\nsnapshot_interval_seconds = 0.5\n"
      "squash_after_layers = 4\ncoordination_dir = \"/shared/coord\"\n",
      "c.toml", config);
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  EXPECT_EQ(config.portable_root, "/srv/portable");
  EXPECT_EQ(config.node_name, "edge-1");
  EXPECT_EQ(config.coordination, "etcd");
  EXPECT_EQ(config.etcd_endpoints, std::vector<std::string>{"http://10.0.0.1:2379"});
  EXPECT_EQ(config.lease_ttl_seconds, 5);
  EXPECT_EQ(config.snapshot_store, "oci");
  EXPECT_EQ(config.snapshot_repository, "127.0.0.1:5000/vols");
  EXPECT_EQ(config.snapshot_interval_seconds, 0.5);
  EXPECT_EQ(config.squash_after_layers, 4);
  EXPECT_EQ(config.coordination_dir, "/shared/coord");
  EXPECT_TRUE(ApplyVolumes(RenderSection("volumes", VolumesToToml(config)), "round", config).ok());
}

TEST(ConfigVolumesTest, BadValuesNameTheKey) {
  VolumesConfig config;
  EXPECT_EQ(
      ApplyVolumes("[volumes]\ncoordination = \"zookeeper\"\n", "c.toml", config).error().message(),
      "c.toml: volumes.coordination: expected local or etcd, got \"zookeeper\"");
  EXPECT_EQ(
      ApplyVolumes("[volumes]\nsnapshot_store = \"s3\"\n", "c.toml", config).error().message(),
      "c.toml: volumes.snapshot_store: expected dir or oci, got \"s3\"");
  EXPECT_EQ(ApplyVolumes("[volumes]\nportable = \"/x\"\n", "c.toml", config).error().message(),
            "c.toml: volumes.portable: unknown key");
  EXPECT_EQ(ApplyVolumes("[volumes]\nlease_ttl_seconds = 0\n", "c.toml", config).error().message(),
            "c.toml: volumes.lease_ttl_seconds: expected an integer from 1 to 3600");
  EXPECT_FALSE(ApplyVolumes("[volumes]\nportable_root = \"rel\"\n", "c.toml", config).ok());
}

}  // namespace
}  // namespace cricket::storage
