#include "cri/default_config_file.h"

#include <sstream>

#include "cri/config.h"

namespace cricket::cri {

namespace {

constexpr const char* kHeader =
    "# cricketd's configuration (read at start; restart cricketd after a change).\n"
    "#\n"
    "# Every key below is shown at its built-in default and commented out: cricketd runs\n"
    "# without this file. To change a setting, remove the '#' in front of it (and of its\n"
    "# [section] line). An unknown key stops cricketd with an error naming it.\n"
    "# Flags on cricketd's command line (cricketd --help) override this file.\n"
    "#\n"
    "# Runtime handlers (RuntimeClass) and registry settings are tables per name, e.g.\n"
    "#   [runtimes.\"runc\"]\n"
    "#   path = \"/usr/sbin/runc\"\n"
    "#   [registry.\"docker.io\"]\n"
    "#   mirrors = [\"https://mirror.example\"]\n"
    "\n";

}  // namespace

std::string DefaultConfigFile() {
  std::istringstream rendered(ConfigToToml(Config{}));
  std::string out = kHeader;
  std::string line;
  while (std::getline(rendered, line)) {
    out += line.empty() ? "\n" : "#" + line + "\n";
  }
  return out;
}

}  // namespace cricket::cri
