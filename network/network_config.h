#pragma once

// [network] in cricketd's config.toml: how pods get their network. Parsed here, beside the code
// that uses it; cri/config.h gathers every section.

#include <string>
#include <vector>

#include "common/result.h"
#include "common/toml_fwd.h"

namespace cricket::network {

struct NetworkConfig {
  // "auto": a CNI chain when cni_conf_dir holds a configuration, else the built-in bridge.
  std::string backend = "auto";
  std::string bridge = "cricket0";
  std::string subnet = "10.88.0.0/16";
  // Set by the config file: then kubelet's pod CIDR (UpdateRuntimeConfig) does not replace it.
  bool subnet_explicit = false;
  int mtu = 1500;
  std::string cni_conf_dir = "/etc/cni/net.d";
  std::vector<std::string> cni_bin_dirs = {"/opt/cni/bin", "/usr/lib/cni"};
  // A CNI configuration template (network/cni_conf_template.h) that UpdateRuntimeConfig fills
  // with kubelet's pod CIDR into cni_conf_dir; empty: none. Set, it makes "auto" choose CNI.
  std::string cni_conf_template;
};

// Applies the keys of the [network] table over `config`. kInvalidArgument
// "<source>: network.<key>: <why>" for an unknown key, a value of the wrong type or a bad value.
Result<void> ApplyNetworkToml(const toml::table& section, std::string_view source,
                              NetworkConfig& config);

// The [network] table, every key.
toml::table NetworkToToml(const NetworkConfig& config);

}  // namespace cricket::network
