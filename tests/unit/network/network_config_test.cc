#include "network/network_config.h"

#include <gtest/gtest.h>

#include "tests/support/toml_text.h"

namespace cricket::network {
namespace {

using ::cricket::testing::ApplySectionToml;
using ::cricket::testing::RenderSection;

Result<void> ApplyNetwork(std::string_view text, std::string_view source, NetworkConfig& config) {
  return ApplySectionToml(text, source, "network", ApplyNetworkToml, config);
}

TEST(ConfigNetworkTest, NetworkSectionKeys) {
  NetworkConfig config;
  auto applied = ApplyNetwork(
      "[network]\nbackend = \"cni\"\nbridge = \"br-edge\"\nsubnet = \"10.50.0.0/24\"\n"
      "mtu = 1400\ncni_conf_dir = \"/opt/net.d\"\ncni_bin_dirs = [\"/opt/cni/bin\"]\n",
      "config.toml", config);
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  EXPECT_EQ(config.backend, "cni");
  EXPECT_EQ(config.bridge, "br-edge");
  EXPECT_EQ(config.subnet, "10.50.0.0/24");
  EXPECT_EQ(config.mtu, 1400);
  EXPECT_EQ(config.cni_conf_dir, "/opt/net.d");
  EXPECT_EQ(config.cni_bin_dirs, (std::vector<std::string>{"/opt/cni/bin"}));
}

TEST(ConfigNetworkTest, BadNetworkValuesNameTheDottedKey) {
  NetworkConfig config;
  EXPECT_EQ(ApplyNetwork("[network]\nmtu = 10\n", "c.toml", config).error().message(),
            "c.toml: network.mtu: expected an integer from 576 to 65535");
  EXPECT_EQ(ApplyNetwork("[network]\nbackend = \"flannel\"\n", "c.toml", config).error().message(),
            "c.toml: network.backend: expected auto, bridge or cni, got \"flannel\"");
  EXPECT_EQ(ApplyNetwork("[network]\nbridges = \"x\"\n", "c.toml", config).error().message(),
            "c.toml: network.bridges: unknown key");
  EXPECT_EQ(
      ApplyNetwork("[network]\ncni_bin_dirs = [\"rel\"]\n", "c.toml", config).error().message(),
      "c.toml: network.cni_bin_dirs: expected an absolute path, got \"rel\"");
}

TEST(ConfigNetworkTest, RenderedNetworkSectionParsesBack) {
  NetworkConfig config;
  config.mtu = 1450;
  NetworkConfig parsed;
  ASSERT_TRUE(
      ApplyNetwork(RenderSection("network", NetworkToToml(config)), "rendered", parsed).ok());
  EXPECT_EQ(parsed.mtu, 1450);
  EXPECT_EQ(parsed.cni_bin_dirs, config.cni_bin_dirs);
}

TEST(ConfigNetworkTest, SubnetFromTheFileIsExplicit) {
  NetworkConfig config;
  EXPECT_FALSE(config.subnet_explicit);  // the default gives way to kubelet's pod CIDR
  ASSERT_TRUE(ApplyNetwork("[network]\nsubnet = \"10.50.0.0/24\"\n", "c.toml", config).ok());
  EXPECT_TRUE(config.subnet_explicit);
}

TEST(ConfigNetworkTest, CniConfTemplateIsAnAbsolutePath) {
  NetworkConfig config;
  ASSERT_TRUE(ApplyNetwork("[network]\ncni_conf_template = \"/etc/cricket/cni.tmpl\"\n", "c.toml",
                           config)
                  .ok());
  EXPECT_EQ(config.cni_conf_template, "/etc/cricket/cni.tmpl");
  EXPECT_EQ(
      ApplyNetwork("[network]\ncni_conf_template = \"cni.tmpl\"\n", "c.toml", config)
          .error()
          .message(),
      "c.toml: network.cni_conf_template: expected an absolute path, got \"cni.tmpl\"");
  NetworkConfig parsed;
  ASSERT_TRUE(
      ApplyNetwork(RenderSection("network", NetworkToToml(config)), "rendered", parsed).ok());
  EXPECT_EQ(parsed.cni_conf_template, "/etc/cricket/cni.tmpl");
}

}  // namespace
}  // namespace cricket::network
