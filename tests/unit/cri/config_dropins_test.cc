#include "cri/config_dropins.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "common/files.h"
#include "cri/config.h"
#include "cri/config_print.h"
#include "cri/config_reload.h"
#include "tests/support/temp_dir.h"

namespace cricket::cri {
namespace {

using ::cricket::testing::TempDir;

class ConfigDropInsTest : public ::testing::Test {
 protected:
  void Write(const std::string& name, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(dir_.Join(name)).parent_path());
    ASSERT_TRUE(WriteFileAtomic(dir_.Join(name), text, 0644).ok());
  }
  Result<Config> Resolve(std::vector<std::string> args = {}, ConfigSources* sources = nullptr) {
    return ResolveConfig(args, dir_.Join("config.toml"), sources);
  }

  TempDir dir_;
};

TEST(ConfigDropInDirTest, IsTheConfigPathWithoutTomlPlusD) {
  EXPECT_EQ(DropInDirFor("/etc/cricket/config.toml"), "/etc/cricket/config.d");
  EXPECT_EQ(DropInDirFor("/x/c.toml"), "/x/c.d");
  EXPECT_EQ(DropInDirFor("/x/cricket.conf"), "/x/cricket.conf.d");
  EXPECT_EQ(DropInDirFor("/x/.toml"), "/x/.toml.d");
}

// Lexical order over the main file; tables merge key by key, scalars and arrays replace.
TEST_F(ConfigDropInsTest, MergeInLexicalOrderOverTheMainFile) {
  Write("config.toml",
        "log_level = \"debug\"\n[network]\nmtu = 1400\nbridge = \"main0\"\n"
        "[images]\npinned = [\"a:1\", \"b:1\"]\n"
        "[registry.\"docker.io\"]\nmirrors = [\"http://localhost:1\"]\ninsecure = true\n");
  Write("config.d/20-late.toml", "log_level = \"error\"\n[network]\nmtu = 1300\n");
  Write("config.d/10-early.toml",
        "log_level = \"warn\"\n[network]\nmtu = 1200\n[images]\npinned = [\"c:1\"]\n"
        "[registry.\"docker.io\"]\nmirrors = [\"http://localhost:2\"]\n");
  Write("config.d/notes.txt", "this = is not toml");  // not *.toml: ignored
  Write("config.d/.hidden.toml", "bogus = 1\n");      // dot files: ignored
  ConfigSources sources;
  auto config = Resolve({}, &sources);
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_EQ(config->log_level, log::Level::kError);  // the last file wins
  EXPECT_EQ(config->network.mtu, 1300);
  EXPECT_EQ(config->network.bridge, "main0");  // [network] merged, not replaced
  EXPECT_EQ(config->images.pinned, (std::vector<std::string>{"c:1"}));  // arrays replace
  const auto& docker = config->registries.at("docker.io");
  EXPECT_EQ(docker.mirrors, (std::vector<std::string>{"http://localhost:2"}));
  EXPECT_TRUE(docker.insecure);  // [registry."docker.io"] merged too
  EXPECT_TRUE(sources.main_found);
  EXPECT_EQ(sources.dropin_dir, dir_.Join("config.d"));
  EXPECT_EQ(sources.dropins, (std::vector<std::string>{dir_.Join("config.d/10-early.toml"),
                                                       dir_.Join("config.d/20-late.toml")}));
}

TEST_F(ConfigDropInsTest, DropInsApplyWithoutAMainFileAndFlagsStillWin) {
  Write("config.d/a.toml", "log_level = \"debug\"\nstate = \"/run/x\"\n");
  auto config = Resolve({"--log-level", "warn"});
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_EQ(config->log_level, log::Level::kWarn);
  EXPECT_EQ(config->state, "/run/x");
}

TEST_F(ConfigDropInsTest, MissingDropInDirIsFine) {
  ConfigSources sources;
  auto config = Resolve({}, &sources);
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_FALSE(sources.main_found);
  EXPECT_TRUE(sources.dropins.empty());
}

TEST_F(ConfigDropInsTest, ConfigDirFlagNamesAnotherOrNone) {
  Write("config.d/a.toml", "log_level = \"debug\"\n");
  Write("other/b.toml", "log_level = \"error\"\n");
  auto config = Resolve({"--config-dir", dir_.Join("other")});
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_EQ(config->log_level, log::Level::kError);
  config = Resolve({"--config-dir="});
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_EQ(config->log_level, log::Level::kInfo);
  // --config /x/c.toml reads /x/c.d/.
  Write("c.toml", "");
  Write("c.d/z.toml", "log_level = \"trace\"\n");
  config = Resolve({"--config", dir_.Join("c.toml")});
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_EQ(config->log_level, log::Level::kTrace);
}

TEST_F(ConfigDropInsTest, UnknownKeyInADropInNamesTheFileAndKey) {
  Write("config.toml", "log_level = \"debug\"\n");
  Write("config.d/10-ok.toml", "[network]\nmtu = 1400\n");
  Write("config.d/20-bad.toml", "[network]\nmtuu = 1400\n");
  auto config = Resolve();
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(config.error().message(),
            dir_.Join("config.d/20-bad.toml") + ": network.mtuu: unknown key");
}

TEST_F(ConfigDropInsTest, BadValueInADropInNamesTheFile) {
  Write("config.d/a.toml", "[images]\nmax_parallel_downloads = 0\n");
  auto config = Resolve();
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(config.error().message().starts_with(dir_.Join("config.d/a.toml") +
                                                   ": images.max_parallel_downloads: "))
      << config.error().message();
}

TEST_F(ConfigDropInsTest, MalformedDropInNamesTheFileAndLine) {
  Write("config.d/a.toml", "log_level = \"debug\"\n\n[network\nmtu = 1\n");
  auto config = Resolve();
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(config.error().message().starts_with(dir_.Join("config.d/a.toml") + ":3:"))
      << config.error().message();
}

TEST_F(ConfigDropInsTest, UnreadableDropInStopsNamingTheFile) {
  Write("config.d/a.toml", "log_level = \"debug\"\n");
  // Root reads files of any mode, so the drop-in that cannot be read is a symlink loop: stat
  // fails (ELOOP) for everyone.
  ASSERT_EQ(::symlink("b.toml", dir_.Join("config.d/b.toml").c_str()), 0);
  auto config = Resolve();
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message().find(dir_.Join("config.d/b.toml")), std::string::npos)
      << config.error().message();
}

TEST_F(ConfigDropInsTest, DanglingSymlinkAndDirectoriesAreSkipped) {
  Write("config.d/a.toml", "log_level = \"debug\"\n");
  ASSERT_EQ(::symlink("/nonexistent/x.toml", dir_.Join("config.d/b.toml").c_str()), 0);
  ASSERT_TRUE(MakeDirs(dir_.Join("config.d/c.toml"), 0755).ok());
  auto config = Resolve();
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_EQ(config->log_level, log::Level::kDebug);
}

TEST_F(ConfigDropInsTest, DropInDirThatIsAFileIsRefused) {
  Write("config.d", "x");
  auto config = Resolve();
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message().find(dir_.Join("config.d")), std::string::npos);
}

// Issue #17: with --root /srv/c the portable volumes were still under /var/lib/cricket.
TEST_F(ConfigDropInsTest, PathDefaultsFollowRoot) {
  auto config = Resolve({"--root", "/srv/c"});
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_EQ(config->volumes.portable_root, "/srv/c/portable");
  Write("config.d/root.toml", "root = \"/srv/d\"\n");
  config = Resolve();
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_EQ(config->volumes.portable_root, "/srv/d/portable");
  // Set explicitly, it stays where it was put.
  Write("config.toml", "[volumes]\nportable_root = \"/data/portable\"\n");
  config = Resolve({"--root", "/srv/c"});
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  EXPECT_EQ(config->volumes.portable_root, "/data/portable");
  // The default root keeps the README's default.
  config = ResolveConfig({}, dir_.Join("none.toml"));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->volumes.portable_root, "/var/lib/cricket/portable");
}

// --print-config: every key, and what it prints reads back as the same configuration.
TEST_F(ConfigDropInsTest, PrintedConfigParsesBackToTheSameConfig) {
  Write("config.toml",
        "log_level = \"debug\"\nlog_format = \"json\"\ncgroup_driver = \"systemd\"\n"
        "[network]\nmtu = 1400\ncni_bin_dirs = [\"/opt/x\"]\n"
        "[images]\npinned = [\"a:1\"]\nmax_parallel_downloads = 2\n"
        "[registry.\"docker.io\"]\nmirrors = [\"http://localhost:1\"]\nmirror_only = true\n"
        "[runtimes.\"runc\"]\npath = \"/usr/sbin/runc\"\n"
        "[streaming]\nmax_connections = 7\n"
        "[volumes]\nnode_name = \"edge\"\netcd_endpoints = [\"http://127.0.0.1:2379\"]\n");
  Write("config.d/a.toml", "[volumes]\nsnapshot_interval_seconds = 0.5\n");
  ConfigSources sources;
  auto config = Resolve({"--root", "/srv/c", "--state", "/run/c"}, &sources);
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  std::string printed = PrintConfig(*config, sources);
  EXPECT_NE(printed.find(dir_.Join("config.d/a.toml")), std::string::npos) << printed;
  EXPECT_NE(printed.find("portable_root = \"/srv/c/portable\""), std::string::npos) << printed;

  TempDir other;
  ASSERT_TRUE(WriteFileAtomic(other.Join("printed.toml"), printed, 0644).ok());
  auto parsed = ResolveConfig({"--config", other.Join("printed.toml")});
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString() << "\n" << printed;
  EXPECT_EQ(FlattenConfig(*parsed), FlattenConfig(*config));
  EXPECT_TRUE(DiffConfigs(*config, *parsed).empty());
  EXPECT_EQ(parsed->volumes.snapshot_interval_seconds, 0.5);
  EXPECT_EQ(parsed->runtimes.at("runc").path, "/usr/sbin/runc");
  EXPECT_EQ(parsed->registries.at("docker.io").mirrors, config->registries.at("docker.io").mirrors);
}

}  // namespace
}  // namespace cricket::cri
