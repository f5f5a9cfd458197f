#include "cri/config_reload.h"

#include <sstream>

#include "common/log.h"
#include "common/toml_section.h"

namespace cricket::cri {
namespace {

// A key as written in TOML: bare when it can be, else quoted (`registry."docker.io"`).
std::string TomlKey(std::string_view key) {
  bool bare = !key.empty();
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    bare = bare && ok;
  }
  return bare ? std::string(key) : "\"" + std::string(key) + "\"";
}

void Flatten(const toml::table& table, const std::string& prefix,
             std::map<std::string, std::string>& out) {
  for (const auto& [key, node] : table) {
    std::string name = prefix + TomlKey(key.str());
    if (const toml::table* sub = node.as_table(); sub != nullptr) {
      Flatten(*sub, name + ".", out);
      continue;
    }
    std::ostringstream value;
    value << toml::node_view<const toml::node>(node);
    out[name] = value.str();
  }
}

}  // namespace

std::map<std::string, std::string> FlattenConfig(const Config& config) {
  std::map<std::string, std::string> out;
  Flatten(ConfigToTable(config), "", out);
  return out;
}

bool IsReloadableKey(std::string_view key) {
  return key == "log_level" || key == "images.pinned" || key.starts_with("registry.");
}

std::vector<ConfigChange> DiffConfigs(const Config& running, const Config& next) {
  std::map<std::string, std::string> before = FlattenConfig(running);
  std::map<std::string, std::string> after = FlattenConfig(next);
  std::vector<ConfigChange> changes;
  auto add = [&](const std::string& key, const std::string& old_value,
                 const std::string& new_value) {
    changes.push_back({key, old_value, new_value, IsReloadableKey(key)});
  };
  // Both maps are sorted: one merge walk finds changed, removed and added keys in key order.
  auto b = before.begin();
  auto a = after.begin();
  while (b != before.end() || a != after.end()) {
    if (a == after.end() || (b != before.end() && b->first < a->first)) {
      add(b->first, b->second, "");
      ++b;
    } else if (b == before.end() || a->first < b->first) {
      add(a->first, "", a->second);
      ++a;
    } else {
      if (b->second != a->second) {
        add(b->first, b->second, a->second);
      }
      ++b;
      ++a;
    }
  }
  return changes;
}

void CarryReloadable(const Config& next, Config& running) {
  running.log_level = next.log_level;
  running.registries = next.registries;
  running.images.pinned = next.images.pinned;
}

ConfigReloader::ConfigReloader(Config running, Loader load, Applier apply)
    : running_(std::move(running)), load_(std::move(load)), apply_(std::move(apply)) {}

Result<std::vector<ConfigChange>> ConfigReloader::Reload() {
  auto next = load_();
  if (!next.ok()) {
    log::Error({}, "config reload failed, the running configuration stays: {}",
               next.error().message());
    return std::move(next).error();
  }
  std::vector<ConfigChange> changes = DiffConfigs(running_, *next);
  bool reloads = false;
  for (const ConfigChange& change : changes) {
    reloads = reloads || change.reloadable;
  }
  if (reloads) {
    if (auto applied = apply_(*next); !applied.ok()) {
      log::Error({}, "config reload failed, the running configuration stays: {}",
                 applied.error().message());
      return std::move(applied).error();
    }
  }
  for (const ConfigChange& change : changes) {
    if (!change.reloadable) {
      log::Warn({}, "{} changed: needs a restart", change.key);
    } else if (change.key.starts_with("registry.")) {
      // Mirror URLs may carry credentials: the key only.
      log::Info({}, "{} changed: reloaded", change.key);
    } else {
      log::Info({}, "{} changed: reloaded ({} -> {})", change.key, change.old_value,
                change.new_value);
    }
  }
  if (changes.empty()) {
    log::Info({}, "config reloaded: no changes");
  }
  CarryReloadable(*next, running_);
  // Last, so that the lines above are still written when the new level is quieter.
  log::Init(running_.log_level, running_.log_format);
  return changes;
}

}  // namespace cricket::cri
