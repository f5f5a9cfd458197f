#pragma once

// Section parsers (common/toml_section.h) driven from TOML text, as cricketd drives them from
// its config file: the unit tests of each module's section write the same documents and expect
// the same "<source>: <section>.<key>: <why>" errors as the whole-Config tests in cri/.

#include <sstream>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/toml_section.h"

namespace cricket::testing {

// Parses `text` and applies its [<section>] table (an empty one when absent) to `config` with
// `apply`, e.g. ApplySectionToml(text, "c.toml", "network", network::ApplyNetworkToml, net).
template <typename Settings, typename Apply>
Result<void> ApplySectionToml(std::string_view text, std::string_view source,
                              std::string_view section, Apply apply, Settings& config) {
  CR_ASSIGN_OR_RETURN(toml::table document, ParseToml(text, source));
  const toml::table* table = document[section].as_table();
  return apply(table != nullptr ? *table : toml::table{}, source, config);
}

// A document with `table` as its [<section>], rendered as text.
inline std::string RenderSection(std::string_view section, toml::table table) {
  toml::table document;
  document.insert(section, std::move(table));
  std::ostringstream out;
  out << document;
  return out.str();
}

}  // namespace cricket::testing
