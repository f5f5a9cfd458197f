#pragma once

// Drop-in configuration files (issue #17): the main config file, then every `*.toml` of its
// drop-in directory in lexical (byte) order, merged into one TOML document.
//
// The rule, CRI-O's (crio.conf + crio.conf.d/, --config-dir) with systemd's naming: the
// drop-in directory of `<dir>/<name>.toml` is `<dir>/<name>.d/` (/etc/cricket/config.toml ->
// /etc/cricket/config.d/; --config /x/c.toml -> /x/c.d/; a name without ".toml" gets ".d"
// appended); `--config-dir DIR` names another, `--config-dir ""` turns drop-ins off. Only
// regular files (or symlinks to them) named `*.toml` and not starting with "." are read; other
// entries are ignored. A missing directory means no drop-ins.
//
// Merge: a later file's tables merge into the earlier ones key by key (recursively), its
// scalars and arrays replace what was there (arrays are not concatenated).

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/toml_fwd.h"

namespace cricket::cri {

// The files a configuration was read from, in the order they were applied.
struct ConfigSources {
  std::string main_path;
  bool main_found = false;           // false: the default path did not exist (defaults only)
  std::string dropin_dir;            // empty: drop-ins are off
  std::vector<std::string> dropins;  // full paths
};

// `<config without .toml>.d`, beside the config file.
std::string DropInDirFor(std::string_view config_path);

// The drop-in files of `dir` (full paths, lexical order). A missing `dir` (or an empty string)
// is no drop-ins; a `dir` that is not a directory or cannot be listed is an error naming it.
Result<std::vector<std::string>> ListDropIns(const std::string& dir);

// Merges `overlay` into `base`: tables recursively, every other value replaces.
void MergeTomlTables(toml::table& base, toml::table&& overlay);

// Parses one file. Errors name the file: "<path>:<line>:<column>: <what>" for bad syntax,
// "read <path>: ..." when it cannot be read.
Result<toml::table> ReadTomlFile(const std::string& path);

// Reads `sources.main_path` (when missing: an error if `main_required`, else defaults only),
// then the drop-ins of `sources.dropin_dir`, and returns them merged; fills the rest of
// `sources`. Every file is first checked alone (ApplyConfigTable), so errors name the file:
// "<path>: <dotted key>: unknown key", "<path>:<line>:<column>: <syntax error>",
// "read config: open <path>: ...".
Result<toml::table> LoadConfigFiles(bool main_required, ConfigSources& sources);

}  // namespace cricket::cri
