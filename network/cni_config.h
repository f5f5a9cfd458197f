#pragma once

// CNI network configuration lists (.conflist) and single configurations (.conf/.json), per the
// CNI specification: loading from a directory, validation with errors naming the file and field.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace cricket::network {

struct CniPlugin {
  std::string type;
  nlohmann::json conf;  // the plugin's whole object, as written
  bool wants_port_mappings = false;  // capabilities.portMappings
};

struct CniNetworkList {
  std::string source;  // file it came from
  std::string cni_version;
  std::string name;
  bool disable_check = false;
  std::vector<CniPlugin> plugins;
};

// Parses a .conflist, or a single-plugin .conf/.json (wrapped into a one-plugin list).
// kInvalidArgument naming `source` and the field for malformed JSON or a missing field.
Result<CniNetworkList> ParseCniConfig(const std::string& text, const std::string& source);

// The first valid configuration in `dir` in lexical order of file names (.conflist, .conf,
// .json), as containerd and CRI-O pick it. kNotFound when the directory holds none; a malformed
// file is an error rather than skipped, so a typo does not silently change the pod network.
Result<CniNetworkList> LoadCniConfigDir(const std::string& dir);

}  // namespace cricket::network
