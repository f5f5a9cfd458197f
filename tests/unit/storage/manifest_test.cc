#include "storage/manifest.h"

#include <gtest/gtest.h>

namespace cricket::storage {
namespace {

const std::string kD1 = "sha256:" + std::string(64, '1');
const std::string kD2 = "sha256:" + std::string(64, '2');
const std::string kD3 = "sha256:" + std::string(64, '3');

TEST(ManifestTest, MediaTypeFromFieldHeaderOrShape) {
  EXPECT_EQ(*ManifestMediaType(R"({"mediaType":"application/vnd.oci.image.index.v1+json"})", ""),
            kOciIndex);
  EXPECT_EQ(*ManifestMediaType("{}", std::string(kDockerManifest) + "; charset=utf-8"),
            kDockerManifest);
  EXPECT_EQ(*ManifestMediaType(R"({"manifests":[]})", "application/json"), kOciIndex);
  EXPECT_EQ(*ManifestMediaType(R"({"config":{}})", ""), kOciManifest);
  EXPECT_EQ(ManifestMediaType("not json", "").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(ManifestMediaType("[1]", "").error().code(), Code::kInvalidArgument);
}

TEST(ManifestTest, ParsesIndexAndSelectsPlatform) {
  std::string body = R"({"schemaVersion":2,"manifests":[
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                     kD1 + R"(","size":10,
     "platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                     kD2 + R"(","size":11,
     "platform":{"os":"linux","architecture":"amd64"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                     kD3 + R"(","size":12,
     "platform":{"os":"linux","architecture":"arm","variant":"v7"}}]})";
  auto entries = ParseIndex(body);
  ASSERT_TRUE(entries.ok()) << entries.error().ToString();
  ASSERT_EQ(entries->size(), 3U);
  EXPECT_EQ(SelectPlatform(*entries, {"linux", "amd64", ""})->digest, kD2);
  EXPECT_EQ(SelectPlatform(*entries, {"linux", "arm64", ""})->digest, kD1);
  EXPECT_EQ(SelectPlatform(*entries, {"linux", "arm", "v7"})->digest, kD3);
  auto none = SelectPlatform(*entries, {"linux", "arm", "v6"});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), Code::kNotFound);
  EXPECT_NE(none.error().message().find("linux/arm/v6"), std::string::npos);
  EXPECT_EQ(SelectPlatform(*entries, {"windows", "amd64", ""}).error().code(), Code::kNotFound);
}

TEST(ManifestTest, ParsesImageManifest) {
  std::string body =
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
    "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" +
      kD1 + R"(","size":100},
    "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":")" +
      kD2 + R"(","size":200},
              {"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":")" +
      kD3 + R"(","size":300}]})";
  auto m = ParseImageManifest(body);
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(m->config.digest, kD1);
  ASSERT_EQ(m->layers.size(), 2U);
  EXPECT_EQ(m->layers[1].size, 300);
}

TEST(ManifestTest, RejectsBadManifests) {
  EXPECT_EQ(ParseImageManifest(R"({"layers":[]})").error().code(), Code::kInvalidArgument);
  std::string bad_digest = R"({"config":{"digest":"sha256:zz","size":1},"layers":[]})";
  EXPECT_EQ(ParseImageManifest(bad_digest).error().code(), Code::kInvalidArgument);
  std::string no_size = R"({"config":{"digest":")" + kD1 + R"("},"layers":[]})";
  EXPECT_EQ(ParseImageManifest(no_size).error().code(), Code::kInvalidArgument);
  std::string encrypted = R"({"config":{"digest":")" + kD1 + R"(","size":1},"layers":[
    {"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip+encrypted","digest":")" +
                          kD2 + R"(","size":1}]})";
  EXPECT_EQ(ParseImageManifest(encrypted).error().code(), Code::kUnimplemented);
  EXPECT_EQ(ParseIndex(R"({"manifests":"x"})").error().code(), Code::kInvalidArgument);
}

TEST(ManifestTest, ParsesImageConfig) {
  std::string body = R"({"os":"linux","architecture":"amd64",
    "config":{"User":"1000:1000","Env":["PATH=/bin","A=b"],"Entrypoint":["/bin/sh","-c"],
              "Cmd":["echo hi"],"WorkingDir":"/work","StopSignal":"SIGQUIT",
              "Volumes":{"/data":{},"/cache":{}},"Labels":{"a":"1","b":"2","n":3}},
    "rootfs":{"type":"layers","diff_ids":[")" +
                     kD1 + R"(",")" + kD2 + R"("]}})";
  auto c = ParseImageConfig(body);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->user, "1000:1000");
  EXPECT_EQ(c->env, (std::vector<std::string>{"PATH=/bin", "A=b"}));
  EXPECT_EQ(c->entrypoint, (std::vector<std::string>{"/bin/sh", "-c"}));
  EXPECT_EQ(c->cmd, (std::vector<std::string>{"echo hi"}));
  EXPECT_EQ(c->working_dir, "/work");
  EXPECT_EQ(c->stop_signal, "SIGQUIT");
  EXPECT_EQ(c->volumes, (std::vector<std::string>{"/cache", "/data"}));
  EXPECT_EQ(c->labels, (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(c->diff_ids, (std::vector<std::string>{kD1, kD2}));
  EXPECT_EQ(ParseImageConfig(R"({"config":{}})").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseImageConfig(R"({"config":{"User":5},"rootfs":{"diff_ids":[]}})")->user, "");
}

TEST(ManifestTest, HostPlatformIsLinux) {
  Platform p = HostPlatform();
  EXPECT_EQ(p.os, "linux");
  EXPECT_FALSE(p.architecture.empty());
}

}  // namespace
}  // namespace cricket::storage
