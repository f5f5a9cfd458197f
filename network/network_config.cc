#include "network/network_config.h"

#include <fmt/format.h>

#include "common/toml_section.h"

namespace cricket::network {
namespace {

Result<void> SetNetworkKey(std::string_view key, const toml::node& node, NetworkConfig& net) {
  if (key == "mtu") {
    CR_ASSIGN_OR_RETURN(net.mtu, TomlIntIn(node, 576, 65535));
    return Ok();
  }
  if (key == "cni_bin_dirs") {
    CR_ASSIGN_OR_RETURN(net.cni_bin_dirs, TomlPathList(node));
    return Ok();
  }
  if (key != "backend" && key != "bridge" && key != "subnet" && key != "cni_conf_dir" &&
      key != "cni_conf_template") {
    return UnknownKey();
  }
  CR_ASSIGN_OR_RETURN(std::string value, TomlString(node));
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
    net.subnet = value;  // parsed as a CIDR by NetworkManager::Create, which names this key
    net.subnet_explicit = true;
  } else if (key == "cni_conf_template") {
    CR_RETURN_IF_ERROR(ValidateAbsolutePath(value));
    net.cni_conf_template = value;
  } else {
    CR_RETURN_IF_ERROR(ValidateAbsolutePath(value));
    net.cni_conf_dir = value;
  }
  return Ok();
}

}  // namespace

Result<void> ApplyNetworkToml(const toml::table& section, std::string_view source,
                              NetworkConfig& config) {
  return ApplyKeys(source, "network", section, [&](std::string_view key, const toml::node& node) {
    return SetNetworkKey(key, node, config);
  });
}

toml::table NetworkToToml(const NetworkConfig& config) {
  toml::table table{
      {"backend", config.backend},
      {"bridge", config.bridge},
      {"subnet", config.subnet},
      {"mtu", config.mtu},
      {"cni_conf_dir", config.cni_conf_dir},
      {"cni_bin_dirs", ToTomlArray(config.cni_bin_dirs)},
  };
  if (!config.cni_conf_template.empty()) {  // no TOML null: an unset key is left out
    table.insert("cni_conf_template", config.cni_conf_template);
  }
  return table;
}

}  // namespace cricket::network
