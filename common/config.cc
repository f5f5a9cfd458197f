#include "common/config.h"

// toml++ header-only without exceptions: its errors become Results here.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <fmt/format.h>

#include <optional>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "common/files.h"
#include "common/host_port.h"

namespace cricket {
namespace {

Error BadKey(std::string_view source, std::string_view key, std::string_view why) {
  return {Code::kInvalidArgument, fmt::format("{}: {}: {}", source, key, why)};
}

Result<std::string> StringValue(const toml::node& node, std::string_view source,
                                std::string_view key) {
  const auto* value = node.as_string();
  if (value == nullptr) {
    return BadKey(source, key, "expected a string");
  }
  return value->get();
}

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

Result<void> ValidatePath(std::string_view value) {
  if (value.empty() || value.front() != '/') {
    return Error(Code::kInvalidArgument, fmt::format("expected an absolute path, got \"{}\"", value));
  }
  return Ok();
}

// Sets one key; `key` is the dotted path used in errors and in flags.
Result<void> SetKey(std::string_view key, std::string_view value, Config& config) {
  if (key == "root" || key == "state" || key == "listen") {
    CR_RETURN_IF_ERROR(ValidatePath(value));
    std::string& field = key == "root" ? config.root : key == "state" ? config.state : config.listen;
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
    CR_RETURN_IF_ERROR(ValidatePath(value));
    config.apparmor_parser = value;
    return Ok();
  }
  return Error(Code::kNotFound, "unknown key");
}

std::string_view LevelName(log::Level level) {
  switch (level) {
    case log::Level::kTrace: return "trace";
    case log::Level::kDebug: return "debug";
    case log::Level::kInfo: return "info";
    case log::Level::kWarn: return "warn";
    case log::Level::kError: return "error";
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

}  // namespace

std::string_view CgroupDriverName(CgroupDriver driver) {
  return driver == CgroupDriver::kSystemd ? "systemd" : "cgroupfs";
}

std::string Config::socket_path() const { return listen.empty() ? state + "/cricket.sock" : listen; }

namespace {

Result<std::vector<std::string>> PathList(const toml::node& node) {
  const auto* array = node.as_array();
  if (array == nullptr) {
    return Error(Code::kInvalidArgument, "expected an array of absolute paths");
  }
  std::vector<std::string> out;
  for (const auto& item : *array) {
    const auto* value = item.as_string();
    if (value == nullptr) {
      return Error(Code::kInvalidArgument, "expected an array of absolute paths");
    }
    CR_RETURN_IF_ERROR(ValidatePath(value->get()));
    out.push_back(value->get());
  }
  return out;
}

Result<void> SetNetworkKey(std::string_view key, const toml::node& node, NetworkConfig& net) {
  if (key == "mtu") {
    const auto* value = node.as_integer();
    if (value == nullptr || value->get() < 576 || value->get() > 65535) {
      return Error(Code::kInvalidArgument, "expected an integer from 576 to 65535");
    }
    net.mtu = static_cast<int>(value->get());
    return Ok();
  }
  if (key == "cni_bin_dirs") {
    CR_ASSIGN_OR_RETURN(net.cni_bin_dirs, PathList(node));
    return Ok();
  }
  const auto* text = node.as_string();
  if (key != "backend" && key != "bridge" && key != "subnet" && key != "cni_conf_dir") {
    return Error(Code::kNotFound, "unknown key");
  }
  if (text == nullptr) {
    return Error(Code::kInvalidArgument, "expected a string");
  }
  const std::string& value = text->get();
  if (key == "backend") {
    if (value != "auto" && value != "bridge" && value != "cni") {
      return Error(Code::kInvalidArgument,
                   fmt::format("expected auto, bridge or cni, got \"{}\"", value));
    }
    net.backend = value;
  } else if (key == "bridge") {
    if (value.empty() || value.size() > 15) {
      return Error(Code::kInvalidArgument, "expected an interface name of 1 to 15 bytes");
    }
    net.bridge = value;
  } else if (key == "subnet") {
    net.subnet = value;  // parsed as a CIDR by network/ at start-up, which names this key
  } else {
    CR_RETURN_IF_ERROR(ValidatePath(value));
    net.cni_conf_dir = value;
  }
  return Ok();
}

Result<std::vector<std::string>> StringList(const toml::node& node) {
  const auto* array = node.as_array();
  if (array == nullptr) {
    return Error(Code::kInvalidArgument, "expected an array of strings");
  }
  std::vector<std::string> out;
  for (const auto& item : *array) {
    const auto* value = item.as_string();
    if (value == nullptr || value->get().empty()) {
      return Error(Code::kInvalidArgument, "expected an array of strings");
    }
    out.push_back(value->get());
  }
  return out;
}

Result<bool> Bool(const toml::node& node) {
  const auto* value = node.as_boolean();
  if (value == nullptr) {
    return Error(Code::kInvalidArgument, "expected true or false");
  }
  return value->get();
}

Result<void> SetImagesKey(std::string_view key, const toml::node& node, ImagesConfig& images) {
  if (key == "pinned") {
    CR_ASSIGN_OR_RETURN(images.pinned, StringList(node));
    return Ok();
  }
  if (key == "max_parallel_downloads") {
    const auto* value = node.as_integer();
    if (value == nullptr || value->get() < 1 || value->get() > 32) {
      return Error(Code::kInvalidArgument, "expected an integer from 1 to 32");
    }
    images.max_parallel_downloads = static_cast<int>(value->get());
    return Ok();
  }
  int64_t* cap = key == "max_layer_uncompressed_bytes" ? &images.max_layer_uncompressed_bytes
                 : key == "max_layer_entries"          ? &images.max_layer_entries
                                                       : nullptr;
  if (cap == nullptr) {
    return Error(Code::kNotFound, "unknown key");
  }
  const auto* value = node.as_integer();
  if (value == nullptr || value->get() < 1) {
    return Error(Code::kInvalidArgument, "expected a positive integer");
  }
  *cap = value->get();
  return Ok();
}

Result<void> SetRegistryKey(std::string_view key, const toml::node& node,
                            RegistryHostSettings& host) {
  if (key == "mirrors") {
    CR_ASSIGN_OR_RETURN(host.mirrors, StringList(node));
    return Ok();
  }
  if (key == "mirror_only") {
    CR_ASSIGN_OR_RETURN(host.mirror_only, Bool(node));
    return Ok();
  }
  if (key == "insecure") {
    CR_ASSIGN_OR_RETURN(host.insecure, Bool(node));
    return Ok();
  }
  return Error(Code::kNotFound, "unknown key");
}

Result<void> SetRuntimeKey(std::string_view key, const toml::node& node,
                           RuntimeHandlerSettings& runtime) {
  std::string* field = key == "path" ? &runtime.path : key == "root" ? &runtime.root : nullptr;
  if (field == nullptr) {
    return Error(Code::kNotFound, "unknown key");
  }
  const auto* text = node.as_string();
  if (text == nullptr) {
    return Error(Code::kInvalidArgument, "expected a string");
  }
  if (!text->get().empty()) {
    CR_RETURN_IF_ERROR(ValidatePath(text->get()));
  }
  *field = text->get();
  return Ok();
}

Result<int> IntIn(const toml::node& node, int64_t min, int64_t max) {
  const auto* value = node.as_integer();
  if (value == nullptr || value->get() < min || value->get() > max) {
    return Error(Code::kInvalidArgument, fmt::format("expected an integer from {} to {}", min, max));
  }
  return static_cast<int>(value->get());
}

Result<void> SetStreamingKey(std::string_view key, const toml::node& node, StreamingConfig& s) {
  if (key == "max_connections") {
    CR_ASSIGN_OR_RETURN(s.max_connections, IntIn(node, 1, 65536));
    return Ok();
  }
  if (key != "address") {
    return Error(Code::kNotFound, "unknown key");
  }
  const auto* text = node.as_string();
  if (text == nullptr) {
    return Error(Code::kInvalidArgument, "expected a string");
  }
  CR_RETURN_IF_ERROR(ParseHostPort(text->get()));  // a typo stops start-up, naming the key
  s.address = text->get();
  return Ok();
}

Result<void> SetVolumesNumber(std::string_view key, const toml::node& node, VolumesConfig& v) {
  if (key == "lease_ttl_seconds") {
    CR_ASSIGN_OR_RETURN(v.lease_ttl_seconds, IntIn(node, 1, 3600));
  } else if (key == "etcd_timeout_ms") {
    CR_ASSIGN_OR_RETURN(v.etcd_timeout_ms, IntIn(node, 100, 600000));
  } else if (key == "squash_after_layers") {
    CR_ASSIGN_OR_RETURN(v.squash_after_layers, IntIn(node, 1, 1000));
  } else {
    // Fractions allowed, so tests can snapshot every few hundred milliseconds.
    std::optional<double> seconds = node.value<double>();
    if (!seconds || *seconds < 0.05 || *seconds > 86400) {
      return Error(Code::kInvalidArgument, "expected a number of seconds from 0.05 to 86400");
    }
    v.snapshot_interval_seconds = *seconds;
  }
  return Ok();
}

Result<void> SetVolumesKey(std::string_view key, const toml::node& node, VolumesConfig& v) {
  if (key == "lease_ttl_seconds" || key == "etcd_timeout_ms" || key == "squash_after_layers" ||
      key == "snapshot_interval_seconds") {
    return SetVolumesNumber(key, node, v);
  }
  if (key == "etcd_endpoints") {
    CR_ASSIGN_OR_RETURN(v.etcd_endpoints, StringList(node));
    return Ok();
  }
  std::string* field = key == "portable_root"         ? &v.portable_root
                       : key == "node_name"           ? &v.node_name
                       : key == "coordination"        ? &v.coordination
                       : key == "coordination_dir"    ? &v.coordination_dir
                       : key == "etcd_prefix"         ? &v.etcd_prefix
                       : key == "snapshot_store"      ? &v.snapshot_store
                       : key == "snapshot_dir"        ? &v.snapshot_dir
                       : key == "snapshot_repository" ? &v.snapshot_repository
                                                      : nullptr;
  if (field == nullptr) {
    return Error(Code::kNotFound, "unknown key");
  }
  const auto* text = node.as_string();
  if (text == nullptr) {
    return Error(Code::kInvalidArgument, "expected a string");
  }
  const std::string& value = text->get();
  if (key == "coordination" && value != "local" && value != "etcd") {
    return Error(Code::kInvalidArgument, fmt::format("expected local or etcd, got \"{}\"", value));
  }
  if (key == "snapshot_store" && value != "dir" && value != "oci") {
    return Error(Code::kInvalidArgument, fmt::format("expected dir or oci, got \"{}\"", value));
  }
  if (key == "portable_root" || ((key == "coordination_dir" || key == "snapshot_dir") &&
                                 !value.empty())) {
    CR_RETURN_IF_ERROR(ValidatePath(value));
  }
  *field = value;
  if (key == "portable_root") {
    while (field->size() > 1 && field->back() == '/') {
      field->pop_back();
    }
  }
  return Ok();
}

// Applies `set` to every key of `table`, naming "<prefix>.<key>" in errors.
template <typename Setter>
Result<void> ApplyKeys(std::string_view source, const std::string& prefix,
                       const toml::table& table, Setter set) {
  for (const auto& [key_node, node] : table) {
    std::string key(key_node.str());
    auto applied = set(key, node);
    if (!applied.ok()) {
      return BadKey(source, prefix + "." + key,
                    applied.error().code() == Code::kNotFound ? "unknown key"
                                                              : applied.error().message());
    }
  }
  return Ok();
}

Result<void> ApplySection(std::string_view source, const std::string& section,
                          const toml::table& table, Config& config) {
  if (section == "images") {
    return ApplyKeys(source, section, table, [&](std::string_view key, const toml::node& node) {
      return SetImagesKey(key, node, config.images);
    });
  }
  if (section == "streaming") {
    return ApplyKeys(source, section, table, [&](std::string_view key, const toml::node& node) {
      return SetStreamingKey(key, node, config.streaming);
    });
  }
  if (section == "volumes") {
    return ApplyKeys(source, section, table, [&](std::string_view key, const toml::node& node) {
      return SetVolumesKey(key, node, config.volumes);
    });
  }
  if (section == "registry") {
    // [registry."registry.k8s.io"] mirrors = [...]: one sub-table per registry domain.
    for (const auto& [domain_node, node] : table) {
      std::string domain(domain_node.str());
      const auto* host = node.as_table();
      if (host == nullptr) {
        return BadKey(source, "registry." + domain, "expected a table of registry settings");
      }
      RegistryHostSettings& settings = config.registries[domain];
      CR_RETURN_IF_ERROR(ApplyKeys(source, "registry.\"" + domain + "\"", *host,
                                   [&](std::string_view key, const toml::node& value) {
                                     return SetRegistryKey(key, value, settings);
                                   }));
    }
    return Ok();
  }
  if (section == "runtimes") {
    // [runtimes."runc"] path = "/usr/sbin/runc": one sub-table per runtime handler.
    for (const auto& [name_node, node] : table) {
      std::string name(name_node.str());
      const auto* handler = node.as_table();
      if (handler == nullptr || name.empty()) {
        return BadKey(source, "runtimes." + name, "expected a table of runtime settings");
      }
      RuntimeHandlerSettings& settings = config.runtimes[name];
      CR_RETURN_IF_ERROR(ApplyKeys(source, "runtimes.\"" + name + "\"", *handler,
                                   [&](std::string_view key, const toml::node& value) {
                                     return SetRuntimeKey(key, value, settings);
                                   }));
    }
    return Ok();
  }
  if (section != "network") {
    return BadKey(source, section, "unknown section");
  }
  for (const auto& [key_node, node] : table) {
    std::string key(key_node.str());
    auto set = SetNetworkKey(key, node, config.network);
    if (!set.ok()) {
      return BadKey(source, section + "." + key,
                    set.error().code() == Code::kNotFound ? "unknown key" : set.error().message());
    }
  }
  return Ok();
}

}  // namespace

namespace {

// A multi-line string may end in up to two quotes of its own before its closing three
// ("""a""""): the index of the last quote of the run starting at `i`.
size_t EndOfQuoteRun(std::string_view text, size_t i, char quote) {
  size_t end = i + 2;
  for (int extra = 0; extra < 2 && end + 1 < text.size() && text[end + 1] == quote; ++extra) {
    ++end;
  }
  return end;
}

// TOML allows non-ASCII characters only in strings and comments. toml++ 3.3 (Debian's) reaches
// __builtin_unreachable() when it meets one anywhere else (its is_non_ascii_horizontal_whitespace
// table is incomplete: "a = 1 \u00e9" is undefined behaviour), so such a file is refused here,
// naming the line and column, before toml++ sees it. Found by tests/fuzz/config_toml.
Result<void> CheckNonAsciiOnlyInStringsAndComments(std::string_view text, std::string_view source) {
  enum class State {
    kCode,
    kComment,
    kBasic,
    kLiteral,
    kMultiBasic,
    kMultiLiteral
  } state = State::kCode;
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const std::string_view rest = text.substr(i);
    if (c == '\n') {
      ++line;
      line_start = i + 1;
      if (state != State::kMultiBasic && state != State::kMultiLiteral) {
        state = State::kCode;  // comments and single-line strings end here (or are errors)
      }
      continue;
    }
    switch (state) {
      case State::kCode:
        if (static_cast<unsigned char>(c) >= 0x80) {
          return Error(Code::kInvalidArgument,
                       fmt::format("{}:{}:{}: non-ASCII character outside a string or comment",
                                   source, line, i - line_start + 1));
        }
        if (c == '#') {
          state = State::kComment;
        } else if (rest.starts_with("\"\"\"")) {
          state = State::kMultiBasic;
          i += 2;
        } else if (rest.starts_with("\'\'\'")) {
          state = State::kMultiLiteral;
          i += 2;
        } else if (c == '"') {
          state = State::kBasic;
        } else if (c == '\'') {
          state = State::kLiteral;
        }
        break;
      case State::kComment:
        break;
      case State::kBasic:
      case State::kMultiBasic:
        if (c == '\\') {
          i += rest.size() > 1 && rest[1] != '\n' ? 1 : 0;  // an escaped quote does not end it
        } else if (state == State::kBasic && c == '"') {
          state = State::kCode;
        } else if (state == State::kMultiBasic && rest.starts_with("\"\"\"")) {
          state = State::kCode;
          i = EndOfQuoteRun(text, i, '"');
        }
        break;
      case State::kLiteral:
        if (c == '\'') {
          state = State::kCode;
        }
        break;
      case State::kMultiLiteral:
        if (rest.starts_with("\'\'\'")) {
          state = State::kCode;
          i = EndOfQuoteRun(text, i, '\'');
        }
        break;
    }
  }
  return Ok();
}

}  // namespace

Result<void> ApplyConfigToml(std::string_view text, std::string_view source, Config& config) {
  CR_RETURN_IF_ERROR(CheckNonAsciiOnlyInStringsAndComments(text, source));
  toml::parse_result parsed = toml::parse(text, source);
  if (!parsed) {
    const auto& err = parsed.error();
    return Error(Code::kInvalidArgument,
                 fmt::format("{}:{}:{}: {}", source, err.source().begin.line,
                             err.source().begin.column, err.description()));
  }
  const toml::table& table = parsed.table();
  for (const auto& [key_node, node] : table) {
    std::string key(key_node.str());
    if (const auto* section = node.as_table(); section != nullptr) {
      CR_RETURN_IF_ERROR(ApplySection(source, key, *section, config));
      continue;
    }
    auto value = StringValue(node, source, key);
    if (!value.ok()) {
      return std::move(value).error();
    }
    auto set = SetKey(key, *value, config);
    if (!set.ok()) {
      return BadKey(source, key, set.error().code() == Code::kNotFound ? "unknown key"
                                                                       : set.error().message());
    }
  }
  return Ok();
}

std::string ConfigToToml(const Config& config) {
  toml::table table{
      {"root", config.root},
      {"state", config.state},
      {"listen", config.socket_path()},
      {"log_level", std::string(LevelName(config.log_level))},
      {"log_format", config.log_format == log::Format::kJson ? "json" : "text"},
      {"cgroup_driver", std::string(CgroupDriverName(config.cgroup_driver))},
      {"apparmor_parser", config.apparmor_parser},
  };
  toml::array bin_dirs;
  for (const auto& dir : config.network.cni_bin_dirs) {
    bin_dirs.push_back(dir);
  }
  table.insert("network", toml::table{
                              {"backend", config.network.backend},
                              {"bridge", config.network.bridge},
                              {"subnet", config.network.subnet},
                              {"mtu", config.network.mtu},
                              {"cni_conf_dir", config.network.cni_conf_dir},
                              {"cni_bin_dirs", std::move(bin_dirs)},
                          });
  toml::array pinned;
  for (const auto& ref : config.images.pinned) {
    pinned.push_back(ref);
  }
  table.insert(
      "images",
      toml::table{{"pinned", std::move(pinned)},
                  {"max_parallel_downloads", config.images.max_parallel_downloads},
                  {"max_layer_uncompressed_bytes", config.images.max_layer_uncompressed_bytes},
                  {"max_layer_entries", config.images.max_layer_entries}});
  table.insert("streaming", toml::table{{"address", config.streaming.address},
                                        {"max_connections", config.streaming.max_connections}});
  const VolumesConfig& v = config.volumes;
  toml::array endpoints;
  for (const auto& e : v.etcd_endpoints) {
    endpoints.push_back(e);
  }
  table.insert("volumes", toml::table{{"portable_root", v.portable_root},
                                      {"node_name", v.node_name},
                                      {"coordination", v.coordination},
                                      {"coordination_dir", v.coordination_dir},
                                      {"etcd_endpoints", std::move(endpoints)},
                                      {"etcd_prefix", v.etcd_prefix},
                                      {"etcd_timeout_ms", v.etcd_timeout_ms},
                                      {"lease_ttl_seconds", v.lease_ttl_seconds},
                                      {"snapshot_store", v.snapshot_store},
                                      {"snapshot_dir", v.snapshot_dir},
                                      {"snapshot_repository", v.snapshot_repository},
                                      {"snapshot_interval_seconds", v.snapshot_interval_seconds},
                                      {"squash_after_layers", v.squash_after_layers}});
  toml::table registries;
  for (const auto& [domain, host] : config.registries) {
    toml::array mirrors;
    for (const auto& m : host.mirrors) {
      mirrors.push_back(m);
    }
    registries.insert(domain, toml::table{{"mirrors", std::move(mirrors)},
                                          {"mirror_only", host.mirror_only},
                                          {"insecure", host.insecure}});
  }
  if (!registries.empty()) {
    table.insert("registry", std::move(registries));
  }
  toml::table runtimes;
  for (const auto& [name, runtime] : config.runtimes) {
    runtimes.insert(name, toml::table{{"path", runtime.path}, {"root", runtime.root}});
  }
  if (!runtimes.empty()) {
    table.insert("runtimes", std::move(runtimes));
  }
  std::ostringstream out;
  out << table;
  return out.str();
}

Result<Config> ResolveConfig(const std::vector<std::string>& args,
                             std::string_view default_config_path) {
  // Pass 1: split "--name=value" / "--name value" pairs and find --config.
  std::vector<std::pair<const Flag*, std::string>> flags;
  std::string config_path;
  bool explicit_config = false;
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
    if (flag->key.empty()) {
      config_path = value;
      explicit_config = true;
    } else {
      flags.emplace_back(flag, std::move(value));
    }
  }

  Config config;
  if (!explicit_config) {
    config_path = default_config_path;
  }
  auto text = ReadFile(config_path);
  if (text.ok()) {
    CR_RETURN_IF_ERROR(ApplyConfigToml(*text, config_path, config));
  } else if (explicit_config || text.error().code() != Code::kNotFound) {
    return text.error().Wrap("read config");
  }

  for (const auto& [flag, value] : flags) {
    auto set = SetKey(flag->key, value, config);
    if (!set.ok()) {
      return Error(Code::kInvalidArgument,
                   fmt::format("flag --{}: {}", flag->name, set.error().message()));
    }
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

}  // namespace cricket
