#include "common/config.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace cricket {
namespace {

using ::cricket::testing::TempDir;

TEST(ConfigTest, DefaultsWhenNoFileAndNoFlags) {
  TempDir dir;
  auto config = ResolveConfig({}, dir.Join("missing.toml"));
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_EQ(config->root, "/var/lib/cricket");
  EXPECT_EQ(config->state, "/run/cricket");
  EXPECT_EQ(config->socket_path(), "/run/cricket/cricket.sock");
  EXPECT_EQ(config->log_level, log::Level::kInfo);
  EXPECT_EQ(config->log_format, log::Format::kText);
  EXPECT_EQ(config->cgroup_driver, CgroupDriver::kCgroupfs);
}

TEST(ConfigTest, SocketFollowsStateUnlessListenIsSet) {
  auto config = ResolveConfig({"--state", "/tmp/s"}, "/nonexistent/config.toml");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->socket_path(), "/tmp/s/cricket.sock");
  config = ResolveConfig({"--state=/tmp/s", "--listen=/tmp/x.sock"}, "/nonexistent/config.toml");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->socket_path(), "/tmp/x.sock");
}

TEST(ConfigTest, FlagsOverrideFileWhichOverridesDefaults) {
  TempDir dir;
  std::string path = dir.Join("config.toml");
  ASSERT_TRUE(WriteFileAtomic(path,
                              "root = \"/srv/cricket\"\nstate = \"/run/c2\"\n"
                              "log_level = \"debug\"\nlog_format = \"json\"\n",
                              0644)
                  .ok());
  auto config = ResolveConfig({"--config", path, "--log-level", "warn"});
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_EQ(config->root, "/srv/cricket");       // from the file
  EXPECT_EQ(config->state, "/run/c2");           // from the file
  EXPECT_EQ(config->log_level, log::Level::kWarn);  // flag beats file
  EXPECT_EQ(config->log_format, log::Format::kJson);
}

TEST(ConfigTest, DefaultPathIsReadWhenPresent) {
  TempDir dir;
  std::string path = dir.Join("config.toml");
  ASSERT_TRUE(WriteFileAtomic(path, "cgroup_driver = \"systemd\"\n", 0644).ok());
  auto config = ResolveConfig({}, path);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->cgroup_driver, CgroupDriver::kSystemd);
}

TEST(ConfigTest, AppArmorParserIsAnAbsolutePath) {
  Config config;
  EXPECT_EQ(config.apparmor_parser, "/sbin/apparmor_parser");
  ASSERT_TRUE(ApplyConfigToml("apparmor_parser = \"/opt/aa/parser\"\n", "t", config).ok());
  EXPECT_EQ(config.apparmor_parser, "/opt/aa/parser");
  auto relative = ApplyConfigToml("apparmor_parser = \"apparmor_parser\"\n", "t", config);
  ASSERT_FALSE(relative.ok());
  EXPECT_NE(relative.error().message().find("apparmor_parser"), std::string::npos);
}

TEST(ConfigTest, UnknownKeyIsRefusedWithKeyNamed) {
  Config config;
  auto applied = ApplyConfigToml("root = \"/a\"\nroots = \"/b\"\n", "config.toml", config);
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(applied.error().message(), "config.toml: roots: unknown key");
}

// tests/fuzz/config_toml: toml++ 3.3 reaches __builtin_unreachable() on a non-ASCII character
// outside a string or comment (UBSan: "execution reached an unreachable program point").
TEST(ConfigTest, NonAsciiOutsideStringsIsRefusedWithLineAndColumn) {
  Config config;
  auto applied =
      ApplyConfigToml("root = \"/a\"\n[\xef\xbb\xbbwork)]m 1\x11", "config.toml", config);
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(applied.error().message(),
            "config.toml:2:2: non-ASCII character outside a string or comment");
  EXPECT_FALSE(ApplyConfigToml("log_level = \"info\" \xc2\xa1\n", "t", config).ok());
}

TEST(ConfigTest, NonAsciiInStringsAndCommentsIsAccepted) {
  Config config;
  auto applied = ApplyConfigToml(
      "# caf\xc3\xa9\nroot = \"/caf\xc3\xa9\\\"\"\nstate = '/\xc3\xa9'\n"
      "listen = \"\"\"/\xc3\xa9\"\"\"\"\napparmor_parser = '''/\xc3\xa9'''\n",
      "t", config);
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  EXPECT_EQ(config.root, "/caf\xc3\xa9\"");
  EXPECT_EQ(config.state, "/\xc3\xa9");
  EXPECT_EQ(config.listen, "/\xc3\xa9\"");
  EXPECT_EQ(config.apparmor_parser, "/\xc3\xa9");
}

TEST(ConfigTest, UnknownSectionIsRefused) {
  Config config;
  auto applied = ApplyConfigToml("[plugins]\nx = 1\n", "config.toml", config);
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().message(), "config.toml: plugins: unknown section");
}

TEST(ConfigTest, BadValueIsRefusedWithKeyNamed) {
  Config config;
  auto applied = ApplyConfigToml("log_level = \"loud\"\n", "config.toml", config);
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().message(),
            "config.toml: log_level: expected one of trace, debug, info, warn, error, got \"loud\"");

  applied = ApplyConfigToml("root = 3\n", "config.toml", config);
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().message(), "config.toml: root: expected a string");

  applied = ApplyConfigToml("root = \"relative/dir\"\n", "config.toml", config);
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().message(),
            "config.toml: root: expected an absolute path, got \"relative/dir\"");
}

TEST(ConfigTest, SyntaxErrorNamesLine) {
  Config config;
  auto applied = ApplyConfigToml("root = \"/a\"\nstate = \n", "config.toml", config);
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().code(), Code::kInvalidArgument);
  EXPECT_TRUE(applied.error().message().starts_with("config.toml:2:")) << applied.error().message();
}

TEST(ConfigTest, BadFlagsAreRefused) {
  auto config = ResolveConfig({"--log-format", "xml"}, "/nonexistent");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message(), "flag --log-format: expected text or json, got \"xml\"");
  config = ResolveConfig({"--bogus=1"}, "/nonexistent");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message(), "unknown flag --bogus");
  config = ResolveConfig({"--root"}, "/nonexistent");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().message(), "flag --root needs a value");
}

TEST(ConfigTest, ExplicitConfigMustExist) {
  auto config = ResolveConfig({"--config", "/nonexistent/cricket.toml"});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code(), Code::kNotFound);
}

TEST(ConfigTest, RendersTomlThatParsesBack) {
  Config config;
  config.root = "/srv/x";
  config.log_format = log::Format::kJson;
  Config parsed;
  ASSERT_TRUE(ApplyConfigToml(ConfigToToml(config), "rendered", parsed).ok());
  EXPECT_EQ(parsed.root, "/srv/x");
  EXPECT_EQ(parsed.log_format, log::Format::kJson);
  EXPECT_EQ(parsed.socket_path(), "/run/cricket/cricket.sock");
}

}  // namespace
}  // namespace cricket

namespace cricket {
namespace {

TEST(ConfigNetworkTest, NetworkSectionKeys) {
  Config config;
  auto applied = ApplyConfigToml(
      "[network]\nbackend = \"cni\"\nbridge = \"br-edge\"\nsubnet = \"10.50.0.0/24\"\n"
      "mtu = 1400\ncni_conf_dir = \"/opt/net.d\"\ncni_bin_dirs = [\"/opt/cni/bin\"]\n",
      "config.toml", config);
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  EXPECT_EQ(config.network.backend, "cni");
  EXPECT_EQ(config.network.bridge, "br-edge");
  EXPECT_EQ(config.network.subnet, "10.50.0.0/24");
  EXPECT_EQ(config.network.mtu, 1400);
  EXPECT_EQ(config.network.cni_conf_dir, "/opt/net.d");
  EXPECT_EQ(config.network.cni_bin_dirs, (std::vector<std::string>{"/opt/cni/bin"}));
}

TEST(ConfigNetworkTest, BadNetworkValuesNameTheDottedKey) {
  Config config;
  EXPECT_EQ(ApplyConfigToml("[network]\nmtu = 10\n", "c.toml", config).error().message(),
            "c.toml: network.mtu: expected an integer from 576 to 65535");
  EXPECT_EQ(ApplyConfigToml("[network]\nbackend = \"flannel\"\n", "c.toml", config)
                .error()
                .message(),
            "c.toml: network.backend: expected auto, bridge or cni, got \"flannel\"");
  EXPECT_EQ(ApplyConfigToml("[network]\nbridges = \"x\"\n", "c.toml", config).error().message(),
            "c.toml: network.bridges: unknown key");
  EXPECT_EQ(ApplyConfigToml("[network]\ncni_bin_dirs = [\"rel\"]\n", "c.toml", config)
                .error()
                .message(),
            "c.toml: network.cni_bin_dirs: expected an absolute path, got \"rel\"");
}

TEST(ConfigNetworkTest, RenderedNetworkSectionParsesBack) {
  Config config;
  config.network.mtu = 1450;
  Config parsed;
  ASSERT_TRUE(ApplyConfigToml(ConfigToToml(config), "rendered", parsed).ok());
  EXPECT_EQ(parsed.network.mtu, 1450);
  EXPECT_EQ(parsed.network.cni_bin_dirs, config.network.cni_bin_dirs);
}

}  // namespace
}  // namespace cricket

namespace cricket {
namespace {

TEST(ConfigRegistryTest, RegistryAndImagesSections) {
  Config config;
  auto applied = ApplyConfigToml(
      "[images]\npinned = [\"registry.k8s.io/pause:3.9\"]\nmax_parallel_downloads = 2\n"
      "[registry.\"registry.k8s.io\"]\nmirrors = [\"http://localhost:5000\"]\nmirror_only = true\n"
      "[registry.\"gcr.io\"]\nmirrors = [\"http://localhost:5000\"]\n"
      "[registry.\"10.0.0.5:5000\"]\ninsecure = true\n",
      "config.toml", config);
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  EXPECT_EQ(config.images.pinned, (std::vector<std::string>{"registry.k8s.io/pause:3.9"}));
  EXPECT_EQ(config.images.max_parallel_downloads, 2);
  ASSERT_EQ(config.registries.size(), 3u);
  EXPECT_TRUE(config.registries.at("registry.k8s.io").mirror_only);
  EXPECT_EQ(config.registries.at("gcr.io").mirrors,
            (std::vector<std::string>{"http://localhost:5000"}));
  EXPECT_FALSE(config.registries.at("gcr.io").mirror_only);
  EXPECT_TRUE(config.registries.at("10.0.0.5:5000").insecure);

  Config parsed;
  ASSERT_TRUE(ApplyConfigToml(ConfigToToml(config), "rendered", parsed).ok());
  EXPECT_TRUE(parsed.registries.at("registry.k8s.io").mirror_only);
  EXPECT_EQ(parsed.images.pinned, config.images.pinned);
}

TEST(ConfigRuntimesTest, RuntimeHandlersAndTheirErrors) {
  Config config;
  auto applied = ApplyConfigToml(
      "[runtimes.\"runc\"]\npath = \"/usr/sbin/runc\"\n"
      "[runtimes.\"crun\"]\npath = \"/usr/bin/crun\"\nroot = \"/run/crun\"\n",
      "config.toml", config);
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  ASSERT_EQ(config.runtimes.size(), 2u);
  EXPECT_EQ(config.runtimes.at("runc").path, "/usr/sbin/runc");
  EXPECT_EQ(config.runtimes.at("runc").root, "");
  EXPECT_EQ(config.runtimes.at("crun").root, "/run/crun");
  Config parsed;
  ASSERT_TRUE(ApplyConfigToml(ConfigToToml(config), "rendered", parsed).ok());
  EXPECT_EQ(parsed.runtimes.at("crun").path, "/usr/bin/crun");

  EXPECT_EQ(ApplyConfigToml("[runtimes.\"runc\"]\npath = \"runc\"\n", "c.toml", config)
                .error()
                .message(),
            "c.toml: runtimes.\"runc\".path: expected an absolute path, got \"runc\"");
  EXPECT_EQ(ApplyConfigToml("[runtimes.\"runc\"]\nbinary = \"/x\"\n", "c.toml", config)
                .error()
                .message(),
            "c.toml: runtimes.\"runc\".binary: unknown key");
}

TEST(ConfigRegistryTest, BadRegistryValuesNameTheKey) {
  Config config;
  EXPECT_EQ(ApplyConfigToml("[registry.\"gcr.io\"]\nmirror_only = \"yes\"\n", "c.toml", config)
                .error()
                .message(),
            "c.toml: registry.\"gcr.io\".mirror_only: expected true or false");
  EXPECT_EQ(ApplyConfigToml("[registry.\"gcr.io\"]\nmirrorz = []\n", "c.toml", config)
                .error()
                .message(),
            "c.toml: registry.\"gcr.io\".mirrorz: unknown key");
  EXPECT_EQ(ApplyConfigToml("[images]\nmax_parallel_downloads = 0\n", "c.toml", config)
                .error()
                .message(),
            "c.toml: images.max_parallel_downloads: expected an integer from 1 to 32");
}

TEST(ConfigVolumesTest, DefaultsWorkOnOneNode) {
  Config config;
  EXPECT_EQ(config.volumes.portable_root, "/var/lib/cricket/portable");
  EXPECT_EQ(config.volumes.coordination, "local");
  EXPECT_EQ(config.volumes.snapshot_store, "dir");
  EXPECT_EQ(config.volumes.lease_ttl_seconds, 10);
  EXPECT_EQ(config.volumes.snapshot_interval_seconds, 30);
  EXPECT_EQ(config.volumes.squash_after_layers, 8);
}

TEST(ConfigVolumesTest, ParsesEveryKey) {
  Config config;
  auto applied = ApplyConfigToml(
      "[volumes]\nportable_root = \"/srv/portable/\"\nnode_name = \"edge-1\"\n"
      "coordination = \"etcd\"\netcd_endpoints = [\"http://10.0.0.1:2379\"]\n"
      "lease_ttl_seconds = 5\nsnapshot_store = \"oci\"\n"
      "snapshot_repository = \"127.0.0.1:5000/vols\"\nsnapshot_interval_seconds = 0.5\n"
      "squash_after_layers = 4\ncoordination_dir = \"/shared/coord\"\n",
      "c.toml", config);
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  EXPECT_EQ(config.volumes.portable_root, "/srv/portable");
  EXPECT_EQ(config.volumes.node_name, "edge-1");
  EXPECT_EQ(config.volumes.coordination, "etcd");
  EXPECT_EQ(config.volumes.etcd_endpoints, std::vector<std::string>{"http://10.0.0.1:2379"});
  EXPECT_EQ(config.volumes.lease_ttl_seconds, 5);
  EXPECT_EQ(config.volumes.snapshot_store, "oci");
  EXPECT_EQ(config.volumes.snapshot_repository, "127.0.0.1:5000/vols");
  EXPECT_EQ(config.volumes.snapshot_interval_seconds, 0.5);
  EXPECT_EQ(config.volumes.squash_after_layers, 4);
  EXPECT_EQ(config.volumes.coordination_dir, "/shared/coord");
  EXPECT_TRUE(ApplyConfigToml(ConfigToToml(config), "round", config).ok());
}

TEST(ConfigVolumesTest, BadValuesNameTheKey) {
  Config config;
  EXPECT_EQ(ApplyConfigToml("[volumes]\ncoordination = \"zookeeper\"\n", "c.toml", config)
                .error()
                .message(),
            "c.toml: volumes.coordination: expected local or etcd, got \"zookeeper\"");
  EXPECT_EQ(ApplyConfigToml("[volumes]\nsnapshot_store = \"s3\"\n", "c.toml", config)
                .error()
                .message(),
            "c.toml: volumes.snapshot_store: expected dir or oci, got \"s3\"");
  EXPECT_EQ(ApplyConfigToml("[volumes]\nportable = \"/x\"\n", "c.toml", config)
                .error()
                .message(),
            "c.toml: volumes.portable: unknown key");
  EXPECT_EQ(ApplyConfigToml("[volumes]\nlease_ttl_seconds = 0\n", "c.toml", config)
                .error()
                .message(),
            "c.toml: volumes.lease_ttl_seconds: expected an integer from 1 to 3600");
  EXPECT_FALSE(ApplyConfigToml("[volumes]\nportable_root = \"rel\"\n", "c.toml", config).ok());
}

}  // namespace
}  // namespace cricket

namespace cricket {
namespace {

// #13 item 6: decompression-bomb caps and the streaming server's address and connection cap.
TEST(ConfigLimitsTest, DefaultsAreGenerousAndLoopback) {
  Config config;
  EXPECT_EQ(config.images.max_layer_uncompressed_bytes, int64_t{16} << 30);
  EXPECT_EQ(config.images.max_layer_entries, 1000000);
  EXPECT_EQ(config.streaming.address, "127.0.0.1:0");
  EXPECT_EQ(config.streaming.max_connections, 128);
}

TEST(ConfigLimitsTest, ParsesCapsAndStreamingKeysAndRendersThemBack) {
  Config config;
  auto applied = ApplyConfigToml(
      "[images]\nmax_layer_uncompressed_bytes = 34359738368\nmax_layer_entries = 5000\n"
      "[streaming]\naddress = \"[::1]:10010\"\nmax_connections = 2\n",
      "c.toml", config);
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  EXPECT_EQ(config.images.max_layer_uncompressed_bytes, int64_t{32} << 30);
  EXPECT_EQ(config.images.max_layer_entries, 5000);
  EXPECT_EQ(config.streaming.address, "[::1]:10010");
  EXPECT_EQ(config.streaming.max_connections, 2);
  Config parsed;
  ASSERT_TRUE(ApplyConfigToml(ConfigToToml(config), "rendered", parsed).ok());
  EXPECT_EQ(parsed.images.max_layer_uncompressed_bytes, int64_t{32} << 30);
  EXPECT_EQ(parsed.images.max_layer_entries, 5000);
  EXPECT_EQ(parsed.streaming.address, "[::1]:10010");
  EXPECT_EQ(parsed.streaming.max_connections, 2);
}

std::string ApplyError(const std::string& toml) {
  Config config;
  auto applied = ApplyConfigToml(toml, "c.toml", config);
  return applied.ok() ? "ok" : applied.error().message();
}

TEST(ConfigLimitsTest, BadCapsNameTheKey) {
  EXPECT_EQ(ApplyError("[images]\nmax_layer_uncompressed_bytes = 0\n"),
            "c.toml: images.max_layer_uncompressed_bytes: expected a positive integer");
  EXPECT_EQ(ApplyError("[images]\nmax_layer_uncompressed_bytes = -1\n"),
            "c.toml: images.max_layer_uncompressed_bytes: expected a positive integer");
  EXPECT_EQ(ApplyError("[images]\nmax_layer_entries = 0\n"),
            "c.toml: images.max_layer_entries: expected a positive integer");
  EXPECT_EQ(ApplyError("[images]\nmax_layer_entries = \"many\"\n"),
            "c.toml: images.max_layer_entries: expected a positive integer");
}

TEST(ConfigLimitsTest, BadStreamingValuesNameTheKey) {
  EXPECT_EQ(ApplyError("[streaming]\nmax_connections = 0\n"),
            "c.toml: streaming.max_connections: expected an integer from 1 to 65536");
  EXPECT_EQ(ApplyError("[streaming]\nmax_connections = 1.5\n"),
            "c.toml: streaming.max_connections: expected an integer from 1 to 65536");
  EXPECT_EQ(ApplyError("[streaming]\naddress = \"localhost:10010\"\n"),
            "c.toml: streaming.address: expected <ip>:<port> or [<ipv6>]:<port>, got "
            "\"localhost:10010\"");
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "::1:10010",
                          "[127.0.0.1]:1", "0.0.0.0:1x"}) {
    EXPECT_NE(ApplyError(std::string("[streaming]\naddress = \"") + bad + "\"\n"), "ok") << bad;
  }
  EXPECT_EQ(ApplyError("[streaming]\naddress = 10010\n"),
            "c.toml: streaming.address: expected a string");
  EXPECT_EQ(ApplyError("[streaming]\nport = 1\n"), "c.toml: streaming.port: unknown key");
  EXPECT_EQ(ApplyError("[streaming]\naddress = \"0.0.0.0:10010\"\n"), "ok");
}

}  // namespace
}  // namespace cricket
