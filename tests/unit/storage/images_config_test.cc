#include "storage/images_config.h"

#include <gtest/gtest.h>

#include "tests/support/toml_text.h"

namespace cricket::storage {
namespace {

using ::cricket::testing::ApplySectionToml;
using ::cricket::testing::RenderSection;

using RegistryHosts = std::map<std::string, RegistryHostConfig>;

Result<void> ApplyImages(std::string_view text, std::string_view source, ImagesConfig& config) {
  return ApplySectionToml(text, source, "images", ApplyImagesToml, config);
}

Result<void> ApplyRegistry(std::string_view text, std::string_view source, RegistryHosts& hosts) {
  return ApplySectionToml(text, source, "registry", ApplyRegistryToml, hosts);
}

TEST(ConfigRegistryTest, RegistryAndImagesSections) {
  const char* text =
      "[images]\npinned = [\"registry.k8s.io/pause:3.9\"]\nmax_parallel_downloads = 2\n"
      "[registry.\"registry.k8s.io\"]\nmirrors = [\"http://localhost:5000\"]\nmirror_only = true\n"
      "[registry.\"gcr.io\"]\nmirrors = [\"http://localhost:5000\"]\n"
      "[registry.\"10.0.0.5:5000\"]\ninsecure = true\n";
  ImagesConfig images;
  RegistryHosts registries;
  auto applied = ApplyImages(text, "config.toml", images);
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  applied = ApplyRegistry(text, "config.toml", registries);
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  EXPECT_EQ(images.pinned, (std::vector<std::string>{"registry.k8s.io/pause:3.9"}));
  EXPECT_EQ(images.max_parallel_downloads, 2);
  ASSERT_EQ(registries.size(), 3u);
  EXPECT_TRUE(registries.at("registry.k8s.io").mirror_only);
  EXPECT_EQ(registries.at("gcr.io").mirrors, (std::vector<std::string>{"http://localhost:5000"}));
  EXPECT_FALSE(registries.at("gcr.io").mirror_only);
  EXPECT_TRUE(registries.at("10.0.0.5:5000").insecure);

  ImagesConfig parsed_images;
  RegistryHosts parsed_registries;
  ASSERT_TRUE(ApplyRegistry(RenderSection("registry", RegistryToToml(registries)), "rendered",
                            parsed_registries)
                  .ok());
  ASSERT_TRUE(
      ApplyImages(RenderSection("images", ImagesToToml(images)), "rendered", parsed_images).ok());
  EXPECT_TRUE(parsed_registries.at("registry.k8s.io").mirror_only);
  EXPECT_EQ(parsed_images.pinned, images.pinned);
}

TEST(ConfigRegistryTest, BadRegistryValuesNameTheKey) {
  RegistryHosts registries;
  ImagesConfig images;
  EXPECT_EQ(ApplyRegistry("[registry.\"gcr.io\"]\nmirror_only = \"yes\"\n", "c.toml", registries)
                .error()
                .message(),
            "c.toml: registry.\"gcr.io\".mirror_only: expected true or false");
  EXPECT_EQ(ApplyRegistry("[registry.\"gcr.io\"]\nmirrorz = []\n", "c.toml", registries)
                .error()
                .message(),
            "c.toml: registry.\"gcr.io\".mirrorz: unknown key");
  EXPECT_EQ(
      ApplyImages("[images]\nmax_parallel_downloads = 0\n", "c.toml", images).error().message(),
      "c.toml: images.max_parallel_downloads: expected an integer from 1 to 32");
}

// #13 item 6: decompression-bomb caps.
TEST(ConfigLimitsTest, LayerCapDefaultsAreGenerous) {
  ImagesConfig config;
  EXPECT_EQ(config.max_layer_uncompressed_bytes, int64_t{16} << 30);
  EXPECT_EQ(config.max_layer_entries, 1000000);
}

TEST(ConfigLimitsTest, ParsesCapsAndRendersThemBack) {
  ImagesConfig config;
  auto applied = ApplyImages(
      "[images]\nmax_layer_uncompressed_bytes = 34359738368\nmax_layer_entries = 5000\n", "c.toml",
      config);
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  EXPECT_EQ(config.max_layer_uncompressed_bytes, int64_t{32} << 30);
  EXPECT_EQ(config.max_layer_entries, 5000);
  ImagesConfig parsed;
  ASSERT_TRUE(ApplyImages(RenderSection("images", ImagesToToml(config)), "rendered", parsed).ok());
  EXPECT_EQ(parsed.max_layer_uncompressed_bytes, int64_t{32} << 30);
  EXPECT_EQ(parsed.max_layer_entries, 5000);
}

std::string ApplyError(const std::string& toml) {
  ImagesConfig config;
  auto applied = ApplyImages(toml, "c.toml", config);
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

// #17.4: images auto-imported at start-up are pinned only when asked.
TEST(ImagesConfigTest, PinImportedIsOffByDefaultAndParsedAndRenderedBack) {
  EXPECT_FALSE(ImagesConfig{}.pin_imported);
  ImagesConfig config;
  ASSERT_TRUE(ApplyImages("[images]\npin_imported = true\n", "c.toml", config).ok());
  EXPECT_TRUE(config.pin_imported);
  ImagesConfig parsed;
  ASSERT_TRUE(ApplyImages(RenderSection("images", ImagesToToml(config)), "rendered", parsed).ok());
  EXPECT_TRUE(parsed.pin_imported);
  EXPECT_EQ(ApplyError("[images]\npin_imported = 1\n"),
            "c.toml: images.pin_imported: expected true or false");
}

}  // namespace
}  // namespace cricket::storage
