#pragma once

// [runtimes."<handler>"] in cricketd's config.toml: the CRI runtime handlers (a Kubernetes
// RuntimeClass's `handler`). The default handler "" is Cricket's own runtime, in each shim's
// process; cri/runtime_handlers.h resolves a handler to what runs it.

#include <map>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/toml_fwd.h"

namespace cricket::cri {

struct RuntimeHandlerSettings {
  // An OCI runtime with runc's command line (runc, crun); empty: Cricket's own runtime.
  std::string path;
  // Its state root (--root); empty means <state>/runtimes/<handler>.
  std::string root;
};

// Applies the [runtimes] table, one sub-table per handler, over `runtimes` (keyed by handler
// name). kInvalidArgument "<source>: runtimes.\"<handler>\".<key>: <why>"; a handler named ""
// (Cricket's own, not configurable) or not a table is "<source>: runtimes.<handler>: ...".
Result<void> ApplyRuntimesToml(const toml::table& section, std::string_view source,
                               std::map<std::string, RuntimeHandlerSettings>& runtimes);

// The [runtimes] table: one sub-table per handler, every key.
toml::table RuntimesToToml(const std::map<std::string, RuntimeHandlerSettings>& runtimes);

}  // namespace cricket::cri
