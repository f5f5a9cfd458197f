// toml++'s out-of-line code (its parser and formatters) is compiled here, once, rather than in
// every section parser that includes common/toml_section.h.
#define TOML_IMPLEMENTATION
#include "common/toml_section.h"

#include <fmt/format.h>

namespace cricket {

namespace {

// A multi-line string may end in up to two quotes of its own before its closing three
// ("""a""""): the index of the last quote of the run starting at `i`.
size_t EndOfQuoteRun(std::string_view text, size_t i, char quote) {
  size_t end = i + 2;
  for (int extra = 0; extra < 2 && end + 1 < text.size() && text[end + 1] == quote; ++extra) {
    ++end;
  }
  return end;
}

// A string (a key or a value) starts a line or follows `=`, `.`, `[`, `{` or `,`, with only
// spaces or tabs between; a quote anywhere else starts no string.
bool StringMayStartAfter(std::string_view text, size_t line_start, size_t quote) {
  size_t i = quote;
  while (i > line_start && (text[i - 1] == ' ' || text[i - 1] == '\t')) {
    --i;
  }
  if (i == line_start) {
    return true;
  }
  const char before = text[i - 1];
  return before == '=' || before == '.' || before == '[' || before == '{' || before == ',';
}

// TOML allows non-ASCII characters only in strings and comments. toml++ 3.3 (Debian's) reaches
// __builtin_unreachable() when it meets one anywhere else (its is_non_ascii_horizontal_whitespace
// table is incomplete: "a = 1 \u00e9" is undefined behaviour), so such a file is refused here,
// naming the line and column, before toml++ sees it. Found by tests/fuzz/config_toml.
Result<void> CheckNonAsciiOnlyInStringsAndComments(std::string_view text, std::string_view source) {
  enum class State {
    kCode,
    kComment,
    kBasic,
    kLiteral,
    kMultiBasic,
    kMultiLiteral
  } state = State::kCode;
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const std::string_view rest = text.substr(i);
    if (c == '\n') {
      ++line;
      line_start = i + 1;
      if (state != State::kMultiBasic && state != State::kMultiLiteral) {
        state = State::kCode;  // comments and single-line strings end here (or are errors)
      }
      continue;
    }
    switch (state) {
      case State::kCode:
        if (static_cast<unsigned char>(c) >= 0x80) {
          return Error(Code::kInvalidArgument,
                       fmt::format("{}:{}:{}: non-ASCII character outside a string or comment",
                                   source, line, i - line_start + 1));
        }
        if (c == '#') {
          state = State::kComment;
        } else if ((c == '"' || c == '\'') && !StringMayStartAfter(text, line_start, i)) {
          // A quote where TOML has no string (after a number, say): toml++ reads on in code.
        } else if (rest.starts_with("\"\"\"")) {
          state = State::kMultiBasic;
          i += 2;
        } else if (rest.starts_with("\'\'\'")) {
          state = State::kMultiLiteral;
          i += 2;
        } else if (c == '"') {
          state = State::kBasic;
        } else if (c == '\'') {
          state = State::kLiteral;
        }
        break;
      case State::kComment:
        break;
      case State::kBasic:
      case State::kMultiBasic:
        if (c == '\\') {
          i += rest.size() > 1 && rest[1] != '\n' ? 1 : 0;  // an escaped quote does not end it
        } else if (state == State::kBasic && c == '"') {
          state = State::kCode;
        } else if (state == State::kMultiBasic && rest.starts_with("\"\"\"")) {
          state = State::kCode;
          i = EndOfQuoteRun(text, i, '"');
        }
        break;
      case State::kLiteral:
        if (c == '\'') {
          state = State::kCode;
        }
        break;
      case State::kMultiLiteral:
        if (rest.starts_with("\'\'\'")) {
          state = State::kCode;
          i = EndOfQuoteRun(text, i, '\'');
        }
        break;
    }
  }
  return Ok();
}

}  // namespace

Result<toml::table> ParseToml(std::string_view text, std::string_view source) {
  CR_RETURN_IF_ERROR(CheckNonAsciiOnlyInStringsAndComments(text, source));
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
