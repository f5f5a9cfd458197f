#include "cri/config_reload.h"

#include <gtest/gtest.h>

#include "common/log.h"

namespace cricket::cri {
namespace {

std::vector<std::string> Keys(const std::vector<ConfigChange>& changes) {
  std::vector<std::string> keys;
  for (const auto& c : changes) {
    keys.push_back(c.key + (c.reloadable ? " reload" : " restart"));
  }
  return keys;
}

TEST(ConfigReloadTest, FlattenNamesEveryLeafByItsDottedKey) {
  Config config;
  config.registries["docker.io"].mirrors = {"http://localhost:1"};
  auto flat = FlattenConfig(config);
  EXPECT_EQ(flat.at("log_level"), "'info'");
  EXPECT_EQ(flat.at("network.mtu"), "1500");
  EXPECT_TRUE(flat.contains("registry.\"docker.io\".mirrors"));
  EXPECT_TRUE(flat.contains("volumes.portable_root"));
}

TEST(ConfigReloadTest, ClassifiesReloadableKeys) {
  EXPECT_TRUE(IsReloadableKey("log_level"));
  EXPECT_TRUE(IsReloadableKey("images.pinned"));
  EXPECT_TRUE(IsReloadableKey("registry.\"docker.io\".mirrors"));
  EXPECT_FALSE(IsReloadableKey("log_format"));
  EXPECT_FALSE(IsReloadableKey("images.max_parallel_downloads"));
  EXPECT_FALSE(IsReloadableKey("root"));
  EXPECT_FALSE(IsReloadableKey("network.subnet"));
  EXPECT_FALSE(IsReloadableKey("registryx"));
}

TEST(ConfigReloadTest, DiffListsChangedAddedAndRemovedKeysInOrder) {
  Config running;
  running.registries["old.io"].insecure = true;
  Config next = running;
  EXPECT_TRUE(DiffConfigs(running, next).empty());
  next.log_level = log::Level::kDebug;
  next.network.mtu = 1400;
  next.images.pinned = {"a:1"};
  next.registries.erase("old.io");
  next.registries["new.io"].mirrors = {"http://localhost:5000"};
  auto changes = DiffConfigs(running, next);
  EXPECT_EQ(Keys(changes), (std::vector<std::string>{
                               "images.pinned reload",
                               "log_level reload",
                               "network.mtu restart",
                               "registry.\"new.io\".insecure reload",
                               "registry.\"new.io\".mirror_only reload",
                               "registry.\"new.io\".mirrors reload",
                               "registry.\"old.io\".insecure reload",
                               "registry.\"old.io\".mirror_only reload",
                               "registry.\"old.io\".mirrors reload",
                           }));
  EXPECT_EQ(changes[1].old_value, "'info'");
  EXPECT_EQ(changes[1].new_value, "'debug'");
  EXPECT_EQ(changes[3].old_value, "");  // added
  EXPECT_EQ(changes[6].new_value, "");  // removed
}

// A changed root moves the path defaults under it too: both need a restart.
TEST(ConfigReloadTest, RootChangeNeedsARestart) {
  Config running;
  Config next;
  next.root = "/srv/c";
  next.volumes.portable_root = "/srv/c/portable";
  EXPECT_EQ(Keys(DiffConfigs(running, next)),
            (std::vector<std::string>{"root restart", "volumes.portable_root restart"}));
}

TEST(ConfigReloadTest, CarryTakesOnlyTheReloadableValues) {
  Config running;
  Config next;
  next.log_level = log::Level::kWarn;
  next.images.pinned = {"a:1"};
  next.registries["x.io"].mirror_only = true;
  next.network.mtu = 1400;
  next.root = "/srv/c";
  CarryReloadable(next, running);
  EXPECT_EQ(running.log_level, log::Level::kWarn);
  EXPECT_EQ(running.images.pinned, next.images.pinned);
  EXPECT_TRUE(running.registries.at("x.io").mirror_only);
  EXPECT_EQ(running.network.mtu, 1500);
  EXPECT_EQ(running.root, "/var/lib/cricket");
}

class ConfigReloaderTest : public ::testing::Test {
 protected:
  void TearDown() override { log::Init(log::Level::kInfo, log::Format::kText); }
};

TEST_F(ConfigReloaderTest, AppliesReloadableChangesAndKeepsTheRest) {
  Config next;
  next.log_level = log::Level::kDebug;
  next.registries["x.io"].mirrors = {"http://localhost:1"};
  next.streaming.max_connections = 7;
  int applied = 0;
  ConfigReloader reloader(
      Config{}, [&] { return Result<Config>(next); },
      [&](const Config& c) {
        ++applied;
        EXPECT_EQ(c.registries.at("x.io").mirrors, next.registries.at("x.io").mirrors);
        return Result<void>(Ok());
      });
  auto changes = reloader.Reload();
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(reloader.running().log_level, log::Level::kDebug);
  EXPECT_TRUE(log::Enabled(log::Level::kDebug));
  EXPECT_EQ(reloader.running().streaming.max_connections, 128);  // needs a restart
  // Again: the pending restart is reported again, nothing to apply.
  changes = reloader.Reload();
  ASSERT_TRUE(changes.ok());
  EXPECT_EQ(Keys(*changes), (std::vector<std::string>{"streaming.max_connections restart"}));
  EXPECT_EQ(applied, 1);
}

TEST_F(ConfigReloaderTest, AFailedLoadOrApplyKeepsTheRunningConfig) {
  Result<Config> next = Error(Code::kInvalidArgument, "c.toml:1:1: bad");
  Result<void> apply = Error(Code::kInvalidArgument, "pinned image: bad");
  ConfigReloader reloader(
      Config{}, [&] { return next; }, [&](const Config&) { return apply; });
  auto changes = reloader.Reload();
  ASSERT_FALSE(changes.ok());
  EXPECT_EQ(changes.error().message(), "c.toml:1:1: bad");

  Config wanted;
  wanted.log_level = log::Level::kError;
  wanted.images.pinned = {"::"};
  next = wanted;
  changes = reloader.Reload();
  ASSERT_FALSE(changes.ok());
  EXPECT_EQ(reloader.running().log_level, log::Level::kInfo);
  EXPECT_TRUE(reloader.running().images.pinned.empty());
  EXPECT_TRUE(log::Enabled(log::Level::kInfo));
}

}  // namespace
}  // namespace cricket::cri
