#pragma once

// [metrics] in cricketd's config.toml: where `GET /metrics` (Prometheus text format) is served.
// Off by default: nothing is allocated, no thread runs, no interceptor is installed. A change
// takes effect at the next start (SIGHUP logs "metrics.address changed: needs a restart").

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"
#include "common/toml_fwd.h"

namespace cricket::cri {

struct MetricsConfig {
  // "" (off), "<ip>:<port>" / "[<ipv6>]:<port>" (port 0 picks a free one, logged), or a unix
  // socket: "unix:///run/cricket/metrics.sock" or an absolute path.
  std::string address;
};

struct MetricsAddress {
  // Set for TCP; `path` is empty then.
  std::string host;
  uint16_t port = 0;
  // Set for a unix socket.
  std::string path;

  static MetricsAddress Tcp(std::string host, uint16_t port) {
    MetricsAddress a;
    a.host = std::move(host);
    a.port = port;
    return a;
  }
  static MetricsAddress Unix(std::string path) {
    MetricsAddress a;
    a.path = std::move(path);
    return a;
  }
};

// kInvalidArgument naming what was expected for anything but the forms above (host names are
// not resolved: a listen address must not depend on DNS at start-up).
Result<MetricsAddress> ParseMetricsAddress(std::string_view address);

// Applies the keys of the [metrics] table. kInvalidArgument "<source>: metrics.<key>: <why>"
// for an unknown key, a value of the wrong type or a bad address.
Result<void> ApplyMetricsToml(const toml::table& section, std::string_view source,
                              MetricsConfig& config);

// The [metrics] table, every key.
toml::table MetricsToToml(const MetricsConfig& config);

}  // namespace cricket::cri
