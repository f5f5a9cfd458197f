#include "network/cni_config.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "network/cni_network.h"
#include "tests/support/temp_dir.h"

namespace cricket::network {
namespace {

using ::cricket::testing::TempDir;

constexpr const char* kConflist = R"({
  "cniVersion": "1.0.0", "name": "pods",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local"}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]})";

TEST(CniConfigTest, ParsesListWithCapabilities) {
  auto list = ParseCniConfig(kConflist, "10-pods.conflist");
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  EXPECT_EQ(list->name, "pods");
  EXPECT_EQ(list->cni_version, "1.0.0");
  ASSERT_EQ(list->plugins.size(), 2u);
  EXPECT_EQ(list->plugins[0].type, "bridge");
  EXPECT_FALSE(list->plugins[0].wants_port_mappings);
  EXPECT_TRUE(list->plugins[1].wants_port_mappings);
  EXPECT_EQ(list->plugins[0].conf["bridge"], "cni0");
}

TEST(CniConfigTest, SingleConfBecomesOnePluginList) {
  auto list = ParseCniConfig(R"({"cniVersion":"0.4.0","name":"lo","type":"loopback"})", "99.conf");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->plugins.size(), 1u);
  EXPECT_EQ(list->plugins[0].type, "loopback");
}

TEST(CniConfigTest, MalformedConfigsNameFileAndField) {
  EXPECT_EQ(ParseCniConfig("{not json", "a.conflist").error().message(),
            "CNI config a.conflist: not a JSON object");
  EXPECT_EQ(ParseCniConfig(R"({"name":"x","plugins":[]})", "b.conflist").error().message(),
            "CNI config b.conflist: cniVersion is missing");
  EXPECT_EQ(ParseCniConfig(R"({"cniVersion":"1.0.0","name":"x","plugins":[]})", "c.conflist")
                .error()
                .message(),
            "CNI config c.conflist: plugins must be a non-empty array");
  EXPECT_EQ(ParseCniConfig(R"({"cniVersion":"1.0.0","name":"x","plugins":[{"bridge":"y"}]})",
                           "d.conflist")
                .error()
                .message(),
            "CNI config d.conflist: plugins[0].type is missing");
  EXPECT_EQ(ParseCniConfig(R"({"cniVersion":"1.0.0","name":"x","type":"../../bin/sh"})", "e.conf")
                .error()
                .code(),
            Code::kInvalidArgument);
}

TEST(CniConfigTest, DirectoryPicksFirstFileLexically) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.Join("20-b.conflist"), kConflist, 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(dir.Join("10-a.conf"),
                              R"({"cniVersion":"0.4.0","name":"first","type":"bridge"})", 0644)
                  .ok());
  ASSERT_TRUE(WriteFileAtomic(dir.Join("00-ignored.txt"), "junk", 0644).ok());
  auto list = LoadCniConfigDir(dir.path());
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->name, "first");
  TempDir empty;
  EXPECT_EQ(LoadCniConfigDir(empty.path()).error().code(), Code::kNotFound);
}

TEST(CniResultTest, ParsesV1AndOldResults) {
  auto v1 = ParseCniResult(nlohmann::json::parse(R"({"cniVersion":"1.0.0",
      "interfaces":[{"name":"eth0","sandbox":"/run/netns/x"}],
      "ips":[{"address":"fd00::5/64"},{"address":"10.88.0.5/16","gateway":"10.88.0.1","interface":0}]})"));
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->ips, (std::vector<std::string>{"10.88.0.5", "fd00::5"}));
  EXPECT_EQ(v1->gateway, "10.88.0.1");
  auto v03 = ParseCniResult(nlohmann::json::parse(
      R"({"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.1.2.3/24"}]})"));
  ASSERT_TRUE(v03.ok());
  EXPECT_EQ(v03->ips.front(), "10.1.2.3");
  EXPECT_FALSE(ParseCniResult(nlohmann::json::parse(R"({"cniVersion":"1.0.0"})")).ok());
}

}  // namespace
}  // namespace cricket::network
