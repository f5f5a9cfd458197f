#pragma once

// Reading one section of a TOML configuration (cricketd's config.toml): the helpers every
// module's section parser uses, so that all of them report errors the same way:
//
//   "<source>: <dotted key>: <why>"    e.g. "config.toml: network.mtu: expected an integer ..."
//
// A section parser walks its table with ApplyKeys and a setter per key. The setter returns
// UnknownKey() for a key it does not know, or an error whose message is only the <why> (the
// readers below produce those); ApplyKeys adds the source and the key. Nothing here reads a
// file: parsers work from a toml::table, so several files (drop-ins) can be applied in turn.
//
// toml++ is used without exceptions; its out-of-line code is compiled once, in toml_section.cc.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/toml_fwd.h"
#include "common/tomlplusplus.h"

static_assert(TOML_LIB_MAJOR == 3, "common/toml_fwd.h declares toml++ 3's namespace");

namespace cricket {

// Parses a whole document. kInvalidArgument "<source>:<line>:<column>: <what>" on bad syntax.
Result<toml::table> ParseToml(std::string_view text, std::string_view source);

// kInvalidArgument "<source>: <key>: <why>".
Error BadKey(std::string_view source, std::string_view key, std::string_view why);

// What a key setter returns for a key it does not know; ApplyKeys reports "unknown key".
Error UnknownKey();

// Sets one key of a section from its value.
using TomlKeySetter = std::function<Result<void>(std::string_view key, const toml::node& value)>;

// Calls `set` for every key of `table`, stopping at the first error, which it names
// "<source>: <prefix>.<key>: <why>".
Result<void> ApplyKeys(std::string_view source, const std::string& prefix, const toml::table& table,
                       const TomlKeySetter& set);

// Sections of named tables, [<section>."<name>"]: calls `apply` for each with its name and the
// prefix its keys are named under (<section>."<name>"). A value that is not a table, or an
// empty name when `allow_empty_name` is false, is "<source>: <section>.<name>: <not_a_table>".
using TomlNamedTableApplier = std::function<Result<void>(
    const std::string& name, const std::string& prefix, const toml::table& table)>;
Result<void> ApplyNamedTables(std::string_view source, std::string_view section,
                              const toml::table& table, std::string_view not_a_table,
                              bool allow_empty_name, const TomlNamedTableApplier& apply);

// Value readers: the error message is the <why> only.

// "expected a string".
Result<std::string> TomlString(const toml::node& node);
// "expected true or false".
Result<bool> TomlBool(const toml::node& node);
// "expected an integer from <min> to <max>".
Result<int> TomlIntIn(const toml::node& node, int64_t min, int64_t max);
// A non-empty string each: "expected an array of strings".
Result<std::vector<std::string>> TomlStringList(const toml::node& node);
// "expected an array of absolute paths", or ValidateAbsolutePath's error for an item.
Result<std::vector<std::string>> TomlPathList(const toml::node& node);
// "expected an absolute path, got \"<value>\"".
Result<void> ValidateAbsolutePath(std::string_view value);

// For rendering a section back to TOML.
toml::array ToTomlArray(const std::vector<std::string>& items);

}  // namespace cricket
