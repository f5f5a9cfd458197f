#pragma once

// SIGHUP (issue #17): cricketd reads its configuration again (files, drop-ins and the same
// command-line flags), compares it key by key with the running one and
//   - swaps in what can change without a restart: `log_level`, `registry.*` (mirrors,
//     mirror_only, insecure: used by the next image pull) and `images.pinned`;
//   - logs every other changed key as "<key> changed: needs a restart" and keeps running with
//     the old value (it is reported again at each SIGHUP until cricketd restarts).
// A configuration that does not load (syntax, unknown key, bad value) or that the image store
// refuses (a malformed pinned reference) changes nothing: the error is logged and the running
// configuration stays.
//
// Only the logic lives here; cricketd_main.cc wires it to the signal and to the daemon.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "cri/config.h"

namespace cricket::cri {

// Every leaf key of `config` as rendered by ConfigToTable, dotted ("network.mtu",
// `registry."docker.io".mirrors`), to its TOML value ("1500", "[ 'a', 'b' ]").
std::map<std::string, std::string> FlattenConfig(const Config& config);

// True for keys a reload applies without a restart (see above).
bool IsReloadableKey(std::string_view key);

struct ConfigChange {
  std::string key;        // dotted, as FlattenConfig names it
  std::string old_value;  // "" when the key was absent (a registry added)
  std::string new_value;  // "" when the key is gone (a registry removed)
  bool reloadable = false;
};

// The keys whose values differ, in key order.
std::vector<ConfigChange> DiffConfigs(const Config& running, const Config& next);

// Copies the reloadable values of `next` into `running`; the rest of `running` stays.
void CarryReloadable(const Config& next, Config& running);

class ConfigReloader {
 public:
  // Loads the configuration again (cricketd: ResolveConfig with its own argv).
  using Loader = std::function<Result<Config>()>;
  // Swaps the reloadable values of `next` into the daemon's parts, all or nothing (cricketd:
  // the image store's registry settings and pinned images). Must not log on success.
  using Applier = std::function<Result<void>(const Config& next)>;

  ConfigReloader(Config running, Loader load, Applier apply);

  // One reload: load, diff, apply, then the log level; logs each change (credentials never:
  // registry values are not printed). On an error logs it, changes nothing and returns it.
  // Called from one thread at a time (cricketd's signal loop).
  Result<std::vector<ConfigChange>> Reload();

  // The configuration in effect: the start-up one with the reloaded values applied.
  const Config& running() const { return running_; }

 private:
  Config running_;
  Loader load_;
  Applier apply_;
};

}  // namespace cricket::cri
