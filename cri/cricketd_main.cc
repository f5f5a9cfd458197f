// cricketd: the Cricket CRI daemon.

#include <malloc.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "common/failpoint.h"
#include "common/log.h"
#include "common/sd_notify.h"
#include "common/version.h"
#include "cri/config.h"
#include "cri/config_print.h"
#include "cri/config_reload.h"
#include "cri/daemon.h"

namespace {

// In-flight calls get this long to finish after SIGTERM/SIGINT before they are cancelled.
constexpr std::chrono::milliseconds kShutdownGrace(5000);

int Usage(std::FILE* out) {
  std::fprintf(out,
               "usage: cricketd [flags]\n%s  --print-config    print the merged configuration with "
               "defaults as TOML, and exit\n  --help            this text\n  --version         "
               "print the version\n",
               cricket::cri::ConfigUsage().c_str());
  return out == stdout ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& arg : args) {
    if (arg == "--help" || arg == "-h") {
      return Usage(stdout);
    }
    if (arg == "--version") {
      std::printf("cricketd %s\n", cricket::kVersion);
      return 0;
    }
  }
  bool print_config = std::erase(args, "--print-config") > 0;
  cricket::cri::ConfigSources sources;
  auto config = cricket::cri::ResolveConfig(args, cricket::cri::kDefaultConfigPath, &sources);
  if (!config.ok()) {
    std::fprintf(stderr, "cricketd: %s\n", config.error().message().c_str());
    return 2;
  }
  if (print_config) {
    std::fputs(cricket::cri::PrintConfig(*config, sources).c_str(), stdout);
    return 0;
  }
  cricket::log::Init(config->log_level, config->log_format);
  if (auto failpoints = cricket::ConfigureFailPointsFromEnv(); !failpoints.ok()) {
    std::fprintf(stderr, "cricketd: %s\n", failpoints.error().message().c_str());
    return 2;
  }

  // Two malloc arenas, not 8 per core: gRPC's threads would each grow an arena of their own,
  // memory that stays with the arena once a call is done.
  mallopt(M_ARENA_MAX, 2);

  // Block the stop signals and SIGHUP (reload) before gRPC starts its threads, so they all
  // inherit the mask and only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client hanging up must not kill the daemon

  auto daemon = cricket::cri::Daemon::Start(*config);
  if (!daemon.ok()) {
    cricket::log::Error({}, "cannot start: {}", daemon.error().ToString());
    return 1;
  }
  // systemd's Type=notify: ready only now that the gRPC socket serves (a getenv when not
  // started by systemd).
  if (auto ready = cricket::SdNotify("READY=1"); !ready.ok()) {
    cricket::log::Warn({}, "cannot tell systemd we are ready: {}", ready.error().ToString());
  }
  cricket::log::Info({}, "config: {} ({}), {} drop-ins from {}", sources.main_path,
                     sources.main_found ? "read" : "absent", sources.dropins.size(),
                     sources.dropin_dir.empty() ? "nowhere" : sources.dropin_dir);
  cricket::cri::ConfigReloader reloader(
      *config, [&args] { return cricket::cri::ResolveConfig(args); },
      [&daemon](const cricket::cri::Config& next) { return (*daemon)->ReloadImageSettings(next); });
  int sig = 0;
  while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
    cricket::log::Info({}, "received SIGHUP, reloading the configuration");
    (void)reloader.Reload();  // logs what changed, or why nothing did
  }
  cricket::log::Info({}, "received signal {}, shutting down", sig);
  (void)cricket::SdNotify("STOPPING=1");
  (*daemon)->Shutdown(kShutdownGrace);
  return 0;
}
