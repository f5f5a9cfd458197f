#pragma once

// [streaming] in cricketd's config.toml: the HTTP endpoint of Exec/Attach/PortForward. Parsed
// here, beside the server that uses it; cri/config.h gathers every section.

#include <string>
#include <string_view>

#include "common/result.h"
#include "common/toml_fwd.h"

namespace cricket::cri::streaming {

// kubelet connects to the URL the RPCs return, so it must be able to reach `address`.
struct StreamingConfig {
  // "<ip>:<port>" ("[<ipv6>]:<port>"); port 0 picks a free port at start-up.
  std::string address = "127.0.0.1:0";
  // Connections served at once; more are refused at once (HTTP 503), not queued.
  int max_connections = 128;
};

// Applies the keys of the [streaming] table over `config`. kInvalidArgument
// "<source>: streaming.<key>: <why>" for an unknown key, a value of the wrong type or a bad
// value (an address that is not <ip>:<port>).
Result<void> ApplyStreamingToml(const toml::table& section, std::string_view source,
                                StreamingConfig& config);

// The [streaming] table, every key.
toml::table StreamingToToml(const StreamingConfig& config);

}  // namespace cricket::cri::streaming
