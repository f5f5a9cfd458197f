#pragma once

// The commented /etc/cricket/config.toml the Debian package installs: every key at its built-in
// default, rendered by ConfigToToml from a default Config, each setting commented out so the
// file changes nothing until the operator uncomments a line. Generated at build time
// (packaging/default_config_main.cc), so it cannot drift from the code's defaults.
//
// Format: prose lines start with "# " (or are "#"); setting and table lines start with "#"
// directly followed by the TOML text, so removing that one '#' makes them active.

#include <string>

namespace cricket::cri {

std::string DefaultConfigFile();

}  // namespace cricket::cri
