#pragma once

// `cricketd --print-config` (issue #17, like `containerd config dump`): the configuration
// cricketd would run with — defaults, the main file, its drop-ins and the flags merged, every
// key — as TOML that parses back to the same configuration, headed by comments naming the
// files that were read.

#include <string>

#include "cri/config.h"

namespace cricket::cri {

std::string PrintConfig(const Config& config, const ConfigSources& sources);

}  // namespace cricket::cri
