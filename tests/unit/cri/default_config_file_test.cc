#include "cri/default_config_file.h"

#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "cri/config.h"

namespace cricket::cri {
namespace {

// The file with every setting line made active: "#key = v" -> "key = v"; prose stays comment.
std::string Uncommented(const std::string& file) {
  std::istringstream in(file);
  std::string out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > 1 && line[0] == '#' && line[1] != ' ') {
      line.erase(0, 1);
    }
    out += line + "\n";
  }
  return out;
}

TEST(DefaultConfigFileTest, AsShippedItChangesNothing) {
  Config config;
  auto applied = ApplyConfigToml(DefaultConfigFile(), "config.toml", config);
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  EXPECT_EQ(ConfigToToml(config), ConfigToToml(Config{}));
}

// Uncommented, every line is a key our loader knows (an unknown one is an error) holding
// the built-in default: the packaged file cannot go stale against the code.
TEST(DefaultConfigFileTest, UncommentedEveryKeyParsesToTheDefaults) {
  const std::string active = Uncommented(DefaultConfigFile());
  Config config;
  config.root = "/elsewhere";  // proves the file sets it back to the default
  config.network.mtu = 9000;
  auto applied = ApplyConfigToml(active, "config.toml", config);
  ASSERT_TRUE(applied.ok()) << applied.error().ToString() << "\n" << active;
  EXPECT_EQ(ConfigToToml(config), ConfigToToml(Config{}));
  EXPECT_EQ(config.root, Config{}.root);
  EXPECT_EQ(config.network.mtu, Config{}.network.mtu);
}

TEST(DefaultConfigFileTest, ShowsEverySectionAndTheSocket) {
  const std::string file = DefaultConfigFile();
  for (const char* want : {"#[network]", "#[images]", "#[streaming]", "#[volumes]",
                           "#listen = \"/run/cricket/cricket.sock\"", "#cgroup_driver = "}) {
    EXPECT_NE(file.find(want), std::string::npos) << want << " missing from\n" << file;
  }
}

}  // namespace
}  // namespace cricket::cri
