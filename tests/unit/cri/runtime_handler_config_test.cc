#include "cri/runtime_handler_config.h"

#include <gtest/gtest.h>

#include "tests/support/toml_text.h"

namespace cricket::cri {
namespace {

using ::cricket::testing::ApplySectionToml;
using ::cricket::testing::RenderSection;

using Runtimes = std::map<std::string, RuntimeHandlerSettings>;

Result<void> ApplyRuntimes(std::string_view text, std::string_view source, Runtimes& runtimes) {
  return ApplySectionToml(text, source, "runtimes", ApplyRuntimesToml, runtimes);
}

TEST(ConfigRuntimesTest, RuntimeHandlersAndTheirErrors) {
  Runtimes runtimes;
  auto applied = ApplyRuntimes(
      "[runtimes.\"runc\"]\npath = \"/usr/sbin/runc\"\n"
      "[runtimes.\"crun\"]\npath = \"/usr/bin/crun\"\nroot = \"/run/crun\"\n",
      "config.toml", runtimes);
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  ASSERT_EQ(runtimes.size(), 2u);
  EXPECT_EQ(runtimes.at("runc").path, "/usr/sbin/runc");
  EXPECT_EQ(runtimes.at("runc").root, "");
  EXPECT_EQ(runtimes.at("crun").root, "/run/crun");
  Runtimes parsed;
  ASSERT_TRUE(
      ApplyRuntimes(RenderSection("runtimes", RuntimesToToml(runtimes)), "rendered", parsed).ok());
  EXPECT_EQ(parsed.at("crun").path, "/usr/bin/crun");

  EXPECT_EQ(
      ApplyRuntimes("[runtimes.\"runc\"]\npath = \"runc\"\n", "c.toml", runtimes).error().message(),
      "c.toml: runtimes.\"runc\".path: expected an absolute path, got \"runc\"");
  EXPECT_EQ(
      ApplyRuntimes("[runtimes.\"runc\"]\nbinary = \"/x\"\n", "c.toml", runtimes).error().message(),
      "c.toml: runtimes.\"runc\".binary: unknown key");
}

}  // namespace
}  // namespace cricket::cri
