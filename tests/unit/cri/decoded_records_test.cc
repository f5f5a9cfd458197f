#include "cri/decoded_records.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace cricket::cri {
namespace {

namespace v1 = ::runtime::v1;
using ::cricket::testing::TempDir;

// Field 1 (metadata) announces 5 bytes and holds 2: protobuf refuses it.
const std::string kTruncatedProto = std::string("\x0a\x05") + "ab";

Sandbox SomeSandbox() {
  Sandbox pod;
  pod.record.id = "s1";
  pod.record.name = "web_default_uid_0";
  pod.config.mutable_metadata()->set_name("web");
  (*pod.config.mutable_labels())["app"] = "web";
  pod.info.netns_path = "/run/cricket/netns/s1";
  pod.info.ips = {"10.88.0.2"};
  pod.info.runtime_handler = "runc";
  return pod;
}

Container SomeContainer() {
  Container ctr;
  ctr.record.id = "c1";
  ctr.record.sandbox_id = "s1";
  ctr.record.name = "nginx_web_0";
  ctr.config.mutable_metadata()->set_name("nginx");
  ctr.config.mutable_image()->set_image("nginx:1");
  ctr.info.image_id = "sha256:abc";
  ctr.info.shim_dir = "/run/cricket/shims/c1";
  ctr.info.stop_signal = 3;
  return ctr;
}

// Encodes both parts of `decoded` into its record, as a handler does before storing it.
template <typename Decoded>
Decoded Encoded(Decoded decoded) {
  EXPECT_TRUE(EncodeConfig(decoded.config, decoded.record).ok());
  EncodeInfo(decoded.info, decoded.record);
  return decoded;
}

TEST(DecodedRecordsTest, SandboxRoundTrips) {
  Sandbox pod = Encoded(SomeSandbox());

  auto back = DecodeSandbox(pod.record);

  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->record.id, "s1");
  EXPECT_EQ(back->config.metadata().name(), "web");
  EXPECT_EQ(back->config.labels().at("app"), "web");
  EXPECT_EQ(back->info.netns_path, "/run/cricket/netns/s1");
  EXPECT_EQ(back->info.ips, std::vector<std::string>{"10.88.0.2"});
  EXPECT_EQ(back->info.runtime_handler, "runc");
}

TEST(DecodedRecordsTest, ContainerRoundTrips) {
  Container ctr = Encoded(SomeContainer());

  auto back = DecodeContainer(ctr.record);

  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->record.sandbox_id, "s1");
  EXPECT_EQ(back->config.metadata().name(), "nginx");
  EXPECT_EQ(back->config.image().image(), "nginx:1");
  EXPECT_EQ(back->info.image_id, "sha256:abc");
  EXPECT_EQ(back->info.shim_dir, "/run/cricket/shims/c1");
  EXPECT_EQ(back->info.stop_signal, 3);
}

TEST(DecodedRecordsTest, CorruptSandboxConfigIsDataLossNamingIdAndPart) {
  Sandbox pod = Encoded(SomeSandbox());
  pod.record.config = kTruncatedProto;

  auto config = DecodeConfig(pod.record);
  auto whole = DecodeSandbox(pod.record);

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code(), Code::kDataLoss);
  EXPECT_EQ(config.error().message(), "sandbox s1: stored config is corrupt");
  ASSERT_FALSE(whole.ok());
  EXPECT_EQ(whole.error().message(), "sandbox s1: stored config is corrupt");
  EXPECT_TRUE(DecodeInfo(pod.record).ok());  // the other part is still readable
}

TEST(DecodedRecordsTest, CorruptSandboxRuntimeIsDataLossNamingIdAndPart) {
  Sandbox pod = Encoded(SomeSandbox());
  pod.record.runtime = R"({"netns": )";

  auto info = DecodeInfo(pod.record);
  auto whole = DecodeSandbox(pod.record);

  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code(), Code::kDataLoss);
  EXPECT_EQ(info.error().message(), "sandbox s1: stored runtime state is corrupt");
  ASSERT_FALSE(whole.ok());
  EXPECT_EQ(whole.error().code(), Code::kDataLoss);
  EXPECT_TRUE(DecodeConfig(pod.record).ok());
}

TEST(DecodedRecordsTest, CorruptContainerConfigIsDataLossNamingIdAndPart) {
  Container ctr = Encoded(SomeContainer());
  ctr.record.config = kTruncatedProto;

  auto config = DecodeConfig(ctr.record);

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code(), Code::kDataLoss);
  EXPECT_EQ(config.error().message(), "container c1: stored config is corrupt");
  EXPECT_EQ(DecodeContainer(ctr.record).error().code(), Code::kDataLoss);
  EXPECT_TRUE(DecodeInfo(ctr.record).ok());
}

TEST(DecodedRecordsTest, CorruptContainerRuntimeIsDataLossNamingIdAndPart) {
  Container ctr = Encoded(SomeContainer());
  ctr.record.runtime = "[1, 2]";  // JSON, but not the object a runtime document is

  auto info = DecodeInfo(ctr.record);

  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code(), Code::kDataLoss);
  EXPECT_EQ(info.error().message(), "container c1: stored runtime state is corrupt");
  EXPECT_EQ(DecodeContainer(ctr.record).error().code(), Code::kDataLoss);
  EXPECT_TRUE(DecodeConfig(ctr.record).ok());
}

TEST(DecodedRecordsTest, LoadSandboxDecodesWhatTheStoreHolds) {
  TempDir dir;
  auto store = MetadataStore::Open(dir.path()).value();
  Sandbox pod = Encoded(SomeSandbox());
  ASSERT_TRUE(store->PutSandbox(pod.record).ok());

  auto loaded = LoadSandbox(*store, "s1");
  auto missing = LoadSandbox(*store, "s2");

  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  EXPECT_EQ(loaded->record.name, "web_default_uid_0");
  EXPECT_EQ(loaded->config.metadata().name(), "web");
  EXPECT_EQ(loaded->info.runtime_handler, "runc");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
}

TEST(DecodedRecordsTest, LoadSandboxReportsACorruptStoredPart) {
  TempDir dir;
  auto store = MetadataStore::Open(dir.path()).value();
  Sandbox pod = Encoded(SomeSandbox());
  pod.record.runtime = "not json";
  ASSERT_TRUE(store->PutSandbox(pod.record).ok());

  auto loaded = LoadSandbox(*store, "s1");

  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code(), Code::kDataLoss);
  EXPECT_EQ(loaded.error().message(), "sandbox s1: stored runtime state is corrupt");
}

}  // namespace
}  // namespace cricket::cri
