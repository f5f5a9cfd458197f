#include "storage/registry_config.h"

#include <gtest/gtest.h>

namespace cricket::storage {
namespace {

TEST(RegistryConfigTest, LoopbackHosts) {
  for (const char* h :
       {"localhost", "localhost:5000", "127.0.0.1", "127.1.2.3:80", "[::1]:5000", "::1"}) {
    EXPECT_TRUE(IsLoopbackHost(h)) << h;
  }
  for (const char* h :
       {"10.0.0.1", "example.com", "localhost.example.com", "[::2]:5000", "128.0.0.1"}) {
    EXPECT_FALSE(IsLoopbackHost(h)) << h;
  }
}

TEST(RegistryConfigTest, OriginSchemes) {
  RegistryConfig config;
  auto docker = ResolveEndpoints(config, "docker.io");
  ASSERT_TRUE(docker.ok());
  ASSERT_EQ(docker->size(), 1U);
  EXPECT_EQ((*docker)[0].base_url, "https://registry-1.docker.io");
  EXPECT_EQ((*ResolveEndpoints(config, "quay.io"))[0].base_url, "https://quay.io");
  EXPECT_EQ((*ResolveEndpoints(config, "localhost:5000"))[0].base_url, "http://localhost:5000");
  EXPECT_EQ((*ResolveEndpoints(config, "127.0.0.1:5000"))[0].base_url, "http://127.0.0.1:5000");
  config.hosts["intranet:5000"].insecure = true;
  auto insecure = ResolveEndpoints(config, "intranet:5000");
  EXPECT_EQ((*insecure)[0].base_url, "http://intranet:5000");
  EXPECT_TRUE((*insecure)[0].skip_tls_verify);
}

TEST(RegistryConfigTest, MirrorsThenOrigin) {
  RegistryConfig config;
  config.hosts["docker.io"].mirrors = {"https://mirror.example/", "http://127.0.0.1:5001"};
  auto e = ResolveEndpoints(config, "docker.io");
  ASSERT_TRUE(e.ok()) << e.error().ToString();
  ASSERT_EQ(e->size(), 3U);
  EXPECT_EQ((*e)[0].base_url, "https://mirror.example");
  EXPECT_TRUE((*e)[0].is_mirror);
  EXPECT_EQ((*e)[1].host, "127.0.0.1:5001");
  EXPECT_EQ((*e)[2].base_url, "https://registry-1.docker.io");
  EXPECT_FALSE((*e)[2].is_mirror);
}

TEST(RegistryConfigTest, MirrorOnlyForCritest) {
  RegistryConfig config;
  for (const char* r : {"registry.k8s.io", "gcr.io"}) {
    config.hosts[r].mirrors = {"http://localhost:5000"};
    config.hosts[r].mirror_only = true;
  }
  auto e = ResolveEndpoints(config, "gcr.io");
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->size(), 1U);
  EXPECT_EQ((*e)[0].base_url, "http://localhost:5000");
  config.hosts["empty.io"].mirror_only = true;
  EXPECT_EQ(ResolveEndpoints(config, "empty.io").error().code(), Code::kFailedPrecondition);
}

TEST(RegistryConfigTest, PlainHttpMirrorNeedsLoopbackOrInsecure) {
  RegistryConfig config;
  config.hosts["docker.io"].mirrors = {"http://mirror.lan:5000"};
  EXPECT_EQ(ResolveEndpoints(config, "docker.io").error().code(), Code::kInvalidArgument);
  config.hosts["mirror.lan:5000"].insecure = true;
  EXPECT_TRUE(ResolveEndpoints(config, "docker.io").ok());
  config.hosts["docker.io"].mirrors = {"mirror.lan"};
  EXPECT_EQ(ResolveEndpoints(config, "docker.io").error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cricket::storage
