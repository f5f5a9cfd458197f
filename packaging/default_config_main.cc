// cricket-default-config: prints the commented default config.toml the package installs
// (cri/default_config_file.h). Run at build time; not installed.

#include <cstdio>

#include "cri/default_config_file.h"

int main() {
  std::fputs(cricket::cri::DefaultConfigFile().c_str(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}
