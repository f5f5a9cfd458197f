#include "cri/config_print.h"

#include <fmt/format.h>

namespace cricket::cri {

std::string PrintConfig(const Config& config, const ConfigSources& sources) {
  std::string out = "# cricketd --print-config: built-in defaults, then\n";
  out += fmt::format("#   {}{}\n", sources.main_path, sources.main_found ? "" : " (absent)");
  if (sources.dropin_dir.empty()) {
    out += "#   (drop-ins off: --config-dir \"\")\n";
  } else if (sources.dropins.empty()) {
    out += fmt::format("#   {}/*.toml (none)\n", sources.dropin_dir);
  }
  for (const std::string& path : sources.dropins) {
    out += fmt::format("#   {}\n", path);
  }
  out += "# then the command-line flags.\n";
  out += ConfigToToml(config);
  out += "\n";
  return out;
}

}  // namespace cricket::cri
