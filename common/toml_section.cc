// toml++'s out-of-line code (its parser and formatters) is compiled here, once, rather than in
// every section parser that includes common/toml_section.h.
#define TOML_IMPLEMENTATION
#include "common/toml_section.h"

#include <fmt/format.h>

namespace cricket {

Result<toml::table> ParseToml(std::string_view text, std::string_view source) {
  toml::parse_result parsed = toml::parse(text, source);
  if (!parsed) {
    const auto& err = parsed.error();
    return Error(Code::kInvalidArgument,
                 fmt::format("{}:{}:{}: {}", source, err.source().begin.line,
                             err.source().begin.column, err.description()));
  }
  return std::move(parsed).table();
}

Error BadKey(std::string_view source, std::string_view key, std::string_view why) {
  return {Code::kInvalidArgument, fmt::format("{}: {}: {}", source, key, why)};
}

Error UnknownKey() { return {Code::kNotFound, "unknown key"}; }

Result<void> ApplyKeys(std::string_view source, const std::string& prefix, const toml::table& table,
                       const TomlKeySetter& set) {
  for (const auto& [key_node, node] : table) {
    std::string key(key_node.str());
    auto applied = set(key, node);
    if (!applied.ok()) {
      // kNotFound is UnknownKey(): every other error already says what was expected.
      return BadKey(
          source, prefix + "." + key,
          applied.error().code() == Code::kNotFound ? "unknown key" : applied.error().message());
    }
  }
  return Ok();
}

Result<void> ApplyNamedTables(std::string_view source, std::string_view section,
                              const toml::table& table, std::string_view not_a_table,
                              bool allow_empty_name, const TomlNamedTableApplier& apply) {
  for (const auto& [name_node, node] : table) {
    std::string name(name_node.str());
    const auto* named = node.as_table();
    if (named == nullptr || (!allow_empty_name && name.empty())) {
      return BadKey(source, fmt::format("{}.{}", section, name), not_a_table);
    }
    CR_RETURN_IF_ERROR(apply(name, fmt::format("{}.\"{}\"", section, name), *named));
  }
  return Ok();
}

Result<std::string> TomlString(const toml::node& node) {
  const auto* value = node.as_string();
  if (value == nullptr) {
    return Error(Code::kInvalidArgument, "expected a string");
  }
  return value->get();
}

Result<bool> TomlBool(const toml::node& node) {
  const auto* value = node.as_boolean();
  if (value == nullptr) {
    return Error(Code::kInvalidArgument, "expected true or false");
  }
  return value->get();
}

Result<int> TomlIntIn(const toml::node& node, int64_t min, int64_t max) {
  const auto* value = node.as_integer();
  if (value == nullptr || value->get() < min || value->get() > max) {
    return Error(Code::kInvalidArgument,
                 fmt::format("expected an integer from {} to {}", min, max));
  }
  return static_cast<int>(value->get());
}

namespace {

// An array of strings, each passing `check`; anything else is `expected`.
Result<std::vector<std::string>> StringArray(
    const toml::node& node, std::string_view expected,
    const std::function<Result<void>(const std::string&)>& check) {
  const auto* array = node.as_array();
  if (array == nullptr) {
    return Error(Code::kInvalidArgument, std::string(expected));
  }
  std::vector<std::string> out;
  for (const auto& item : *array) {
    const auto* value = item.as_string();
    if (value == nullptr) {
      return Error(Code::kInvalidArgument, std::string(expected));
    }
    CR_RETURN_IF_ERROR(check(value->get()));
    out.push_back(value->get());
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> TomlStringList(const toml::node& node) {
  constexpr std::string_view kExpected = "expected an array of strings";
  return StringArray(node, kExpected, [&](const std::string& item) -> Result<void> {
    if (item.empty()) {
      return Error(Code::kInvalidArgument, std::string(kExpected));
    }
    return Ok();
  });
}

Result<std::vector<std::string>> TomlPathList(const toml::node& node) {
  return StringArray(node, "expected an array of absolute paths",
                     [](const std::string& item) { return ValidateAbsolutePath(item); });
}

Result<void> ValidateAbsolutePath(std::string_view value) {
  if (value.empty() || value.front() != '/') {
    return Error(Code::kInvalidArgument,
                 fmt::format("expected an absolute path, got \"{}\"", value));
  }
  return Ok();
}

toml::array ToTomlArray(const std::vector<std::string>& items) {
  toml::array out;
  for (const auto& item : items) {
    out.push_back(item);
  }
  return out;
}

}  // namespace cricket
