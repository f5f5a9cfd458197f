#include "cri/config.h"

#include <sstream>

#include <fmt/format.h>

#include "common/files.h"
#include "common/toml_section.h"
#include "cri/config_dropins.h"

namespace cricket::cri {
namespace {

Result<void> ParseCgroupDriver(std::string_view name, CgroupDriver& out) {
  if (name == "cgroupfs") {
    out = CgroupDriver::kCgroupfs;
    return Ok();
  }
  if (name == "systemd") {
    out = CgroupDriver::kSystemd;
    return Ok();
  }
  return Error(Code::kInvalidArgument,
               fmt::format("expected cgroupfs or systemd, got \"{}\"", name));
}

// Sets one top-level key, from the file or a flag (both are strings); `key` is named in errors.
Result<void> SetKey(std::string_view key, std::string_view value, Config& config) {
  if (key == "root" || key == "state" || key == "listen") {
    CR_RETURN_IF_ERROR(ValidateAbsolutePath(value));
    std::string& field = key == "root"    ? config.root
                         : key == "state" ? config.state
                                          : config.listen;
    field = value;
    return Ok();
  }
  if (key == "log_level") {
    CR_ASSIGN_OR_RETURN(config.log_level, log::ParseLevel(value));
    return Ok();
  }
  if (key == "log_format") {
    CR_ASSIGN_OR_RETURN(config.log_format, log::ParseFormat(value));
    return Ok();
  }
  if (key == "cgroup_driver") {
    return ParseCgroupDriver(value, config.cgroup_driver);
  }
  if (key == "apparmor_parser") {
    CR_RETURN_IF_ERROR(ValidateAbsolutePath(value));
    config.apparmor_parser = value;
    return Ok();
  }
  return UnknownKey();
}

std::string_view LevelName(log::Level level) {
  switch (level) {
    case log::Level::kTrace:
      return "trace";
    case log::Level::kDebug:
      return "debug";
    case log::Level::kInfo:
      return "info";
    case log::Level::kWarn:
      return "warn";
    case log::Level::kError:
      return "error";
  }
  return "info";
}

struct Flag {
  std::string_view name;  // without "--"
  std::string_view key;   // config key it overrides, empty for --config
  std::string_view help;
};

constexpr Flag kFlags[] = {
    {"config", "", "config file (default /etc/cricket/config.toml, optional)"},
    {"config-dir", "", "drop-in directory (default <config without .toml>.d; \"\" for none)"},
    {"root", "root", "persistent data directory (default /var/lib/cricket)"},
    {"state", "state", "runtime state directory (default /run/cricket)"},
    {"listen", "listen", "gRPC unix socket path (default <state>/cricket.sock)"},
    {"log-level", "log_level", "trace|debug|info|warn|error (default info)"},
    {"log-format", "log_format", "text|json (default text)"},
    {"cgroup-driver", "cgroup_driver", "cgroupfs|systemd (default cgroupfs)"},
};

const Flag* FindFlag(std::string_view name) {
  for (const Flag& flag : kFlags) {
    if (flag.name == name) {
      return &flag;
    }
  }
  return nullptr;
}

// Each section goes to the parser of the module that owns it.
Result<void> ApplySection(std::string_view source, const std::string& section,
                          const toml::table& table, Config& config) {
  if (section == "network") {
    return network::ApplyNetworkToml(table, source, config.network);
  }
  if (section == "images") {
    return storage::ApplyImagesToml(table, source, config.images);
  }
  if (section == "registry") {
    return storage::ApplyRegistryToml(table, source, config.registries);
  }
  if (section == "volumes") {
    return storage::ApplyVolumesToml(table, source, config.volumes);
  }
  if (section == "streaming") {
    return streaming::ApplyStreamingToml(table, source, config.streaming);
  }
  if (section == "runtimes") {
    return ApplyRuntimesToml(table, source, config.runtimes);
  }
  if (section == "metrics") {
    return ApplyMetricsToml(table, source, config.metrics);
  }
  return BadKey(source, section, "unknown section");
}

}  // namespace

std::string_view CgroupDriverName(CgroupDriver driver) {
  return driver == CgroupDriver::kSystemd ? "systemd" : "cgroupfs";
}

std::string Config::socket_path() const {
  return listen.empty() ? state + "/cricket.sock" : listen;
}

Result<void> ApplyConfigTable(const toml::table& table, std::string_view source, Config& config) {
  for (const auto& [key_node, node] : table) {
    std::string key(key_node.str());
    if (const auto* section = node.as_table(); section != nullptr) {
      CR_RETURN_IF_ERROR(ApplySection(source, key, *section, config));
      continue;
    }
    auto value = TomlString(node);
    if (!value.ok()) {
      return BadKey(source, key, value.error().message());
    }
    auto set = SetKey(key, *value, config);
    if (!set.ok()) {
      return BadKey(source, key,
                    set.error().code() == Code::kNotFound ? "unknown key" : set.error().message());
    }
  }
  return Ok();
}

Result<void> ApplyConfigToml(std::string_view text, std::string_view source, Config& config) {
  CR_ASSIGN_OR_RETURN(toml::table table, ParseToml(text, source));
  return ApplyConfigTable(table, source, config);
}

toml::table ConfigToTable(const Config& config) {
  toml::table table{
      {"root", config.root},
      {"state", config.state},
      {"listen", config.socket_path()},
      {"log_level", std::string(LevelName(config.log_level))},
      {"log_format", config.log_format == log::Format::kJson ? "json" : "text"},
      {"cgroup_driver", std::string(CgroupDriverName(config.cgroup_driver))},
      {"apparmor_parser", config.apparmor_parser},
  };
  table.insert("network", network::NetworkToToml(config.network));
  table.insert("images", storage::ImagesToToml(config.images));
  table.insert("streaming", streaming::StreamingToToml(config.streaming));
  table.insert("volumes", storage::VolumesToToml(config.volumes));
  if (!config.registries.empty()) {
    table.insert("registry", storage::RegistryToToml(config.registries));
  }
  if (!config.runtimes.empty()) {
    table.insert("runtimes", RuntimesToToml(config.runtimes));
  }
  table.insert("metrics", MetricsToToml(config.metrics));
  return table;
}

std::string ConfigToToml(const Config& config) {
  // Basic strings only, every special character escaped: toml++ 3.3 picks literal strings that
  // cannot hold the value: a multi-line one for a value holding ''' (which ends it early), a
  // single-line one for a value holding a line break (found by tests/fuzz/config_toml).
  constexpr auto kFormat =
      toml::toml_formatter::default_flags &
      ~(toml::format_flags::allow_literal_strings | toml::format_flags::allow_multi_line_strings);
  std::ostringstream out;
  out << toml::toml_formatter{ConfigToTable(config), kFormat};
  return out.str();
}

namespace {

// Path defaults that live under `root` follow it (issue #17): with --root /srv/c the portable
// volumes are /srv/c/portable unless the files set volumes.portable_root. (The other data under
// root — metadata, blobs, snapshots, network leases, volume data — is derived from `root` where
// it is used.)
void ApplyRootDerivedDefaults(const toml::table& merged, Config& config) {
  if (!merged["volumes"]["portable_root"]) {
    config.volumes.portable_root = config.root + "/portable";
  }
}

}  // namespace

Result<Config> ResolveConfig(const std::vector<std::string>& args,
                             std::string_view default_config_path, ConfigSources* sources_out) {
  // Pass 1: split "--name=value" / "--name value" pairs and find --config and --config-dir.
  std::vector<std::pair<const Flag*, std::string>> flags;
  ConfigSources sources;
  sources.main_path = default_config_path;
  bool explicit_config = false;
  bool explicit_dir = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (!arg.starts_with("--")) {
      return Error(Code::kInvalidArgument, fmt::format("unexpected argument \"{}\"", arg));
    }
    arg.remove_prefix(2);
    std::string value;
    size_t eq = arg.find('=');
    std::string_view name = arg.substr(0, eq);
    const Flag* flag = FindFlag(name);
    if (flag == nullptr) {
      return Error(Code::kInvalidArgument, fmt::format("unknown flag --{}", name));
    }
    if (eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return Error(Code::kInvalidArgument, fmt::format("flag --{} needs a value", name));
    }
    if (name == "config") {
      sources.main_path = value;
      explicit_config = true;
    } else if (name == "config-dir") {
      sources.dropin_dir = value;
      explicit_dir = true;
    } else {
      flags.emplace_back(flag, std::move(value));
    }
  }
  if (!explicit_dir) {
    sources.dropin_dir = DropInDirFor(sources.main_path);
  }

  CR_ASSIGN_OR_RETURN(toml::table merged, LoadConfigFiles(explicit_config, sources));
  Config config;
  CR_RETURN_IF_ERROR(ApplyConfigTable(merged, sources.main_path, config));
  for (const auto& [flag, value] : flags) {
    auto set = SetKey(flag->key, value, config);
    if (!set.ok()) {
      return Error(Code::kInvalidArgument,
                   fmt::format("flag --{}: {}", flag->name, set.error().message()));
    }
  }
  ApplyRootDerivedDefaults(merged, config);
  if (sources_out != nullptr) {
    *sources_out = std::move(sources);
  }
  return config;
}

std::string ConfigUsage() {
  std::string out;
  for (const Flag& flag : kFlags) {
    out += fmt::format("  --{:<15} {}\n", flag.name, flag.help);
  }
  return out;
}

}  // namespace cricket::cri
