#include "network/dns_files.h"

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace cricket::network {
namespace {

using ::cricket::testing::TempDir;

TEST(DnsFilesTest, RendersServersSearchesAndOptions) {
  DnsConfig dns{{"10.96.0.10", "8.8.8.8"}, {"default.svc.cluster.local", "svc.cluster.local"},
                {"ndots:5", "timeout:1"}};
  EXPECT_EQ(RenderResolvConf(dns, "nameserver 1.1.1.1\n"),
            "search default.svc.cluster.local svc.cluster.local\n"
            "nameserver 10.96.0.10\nnameserver 8.8.8.8\n"
            "options ndots:5 timeout:1\n");
}

TEST(DnsFilesTest, EmptyConfigCopiesTheNodesFile) {
  EXPECT_EQ(RenderResolvConf({}, "nameserver 192.0.2.53\n"), "nameserver 192.0.2.53\n");
}

TEST(DnsFilesTest, HostsNamePodAfterLocalhost) {
  std::string hosts = RenderHosts("10.88.0.5", "web-0");
  EXPECT_TRUE(hosts.starts_with("127.0.0.1\tlocalhost\n"));
  EXPECT_TRUE(hosts.ends_with("10.88.0.5\tweb-0\n"));
  EXPECT_EQ(RenderHosts("", "web-0").find("web-0"), std::string::npos);
}

TEST(DnsFilesTest, WritesAllThreeFiles) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.Join("node-resolv.conf"), "nameserver 192.0.2.1\n", 0644).ok());
  auto files = WritePodNameFiles(dir.Join("pod"), "web-0", "10.88.0.5", {},
                                 dir.Join("node-resolv.conf"));
  ASSERT_TRUE(files.ok()) << files.error().ToString();
  EXPECT_EQ(*ReadFile(files->resolv_conf), "nameserver 192.0.2.1\n");
  EXPECT_EQ(*ReadFile(files->hostname), "web-0\n");
  EXPECT_NE(ReadFile(files->hosts)->find("10.88.0.5\tweb-0"), std::string::npos);
  // A node without /etc/resolv.conf gives an empty file, not an error.
  EXPECT_TRUE(WritePodNameFiles(dir.Join("pod2"), "x", "", {}, dir.Join("missing")).ok());
}

}  // namespace
}  // namespace cricket::network
