#include "network/cni_conf_template.h"

#include <algorithm>
#include <map>
#include <vector>

#include "common/files.h"
#include "network/cni_config.h"

namespace cricket::network {
namespace {

struct Token {
  bool action = false;
  std::string text;  // the text, or the action's content without braces, trim marks and spaces
};

constexpr const char* kSpaces = " \t\r\n";

std::string_view Strip(std::string_view text) {
  size_t first = text.find_first_not_of(kSpaces);
  if (first == std::string_view::npos) {
    return {};
  }
  return text.substr(first, text.find_last_not_of(kSpaces) - first + 1);
}

Result<std::vector<Token>> Tokenize(std::string_view tmpl, std::string_view source) {
  std::vector<Token> tokens;
  bool trim_next = false;
  size_t pos = 0;
  while (pos < tmpl.size()) {
    size_t open = tmpl.find("{{", pos);
    std::string_view text =
        tmpl.substr(pos, open == std::string_view::npos ? tmpl.npos : open - pos);
    std::string kept(text);
    if (trim_next) {
      kept.erase(0, std::min(kept.size(), kept.find_first_not_of(kSpaces)));
    }
    if (open == std::string_view::npos) {
      tokens.push_back({false, kept});
      break;
    }
    size_t close = tmpl.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return Error(Code::kFailedPrecondition, std::string(source) + ": unclosed {{");
    }
    std::string_view inner = tmpl.substr(open + 2, close - open - 2);
    // Go's trim marks need the space: "{{- x -}}".
    if (inner.starts_with("- ")) {
      size_t last = kept.find_last_not_of(kSpaces);
      kept.erase(last == std::string::npos ? 0 : last + 1);
      inner.remove_prefix(2);
    }
    trim_next = inner.ends_with(" -");
    if (trim_next) {
      inner.remove_suffix(2);
    }
    tokens.push_back({false, kept});
    tokens.push_back({true, std::string(Strip(inner))});
    pos = close + 2;
  }
  return tokens;
}

bool Opens(const Token& token) {
  return token.action && (token.text.starts_with("range ") || token.text.starts_with("if "));
}

class Renderer {
 public:
  Renderer(const std::vector<Token>& tokens, const PodCidrs& cidrs, std::string_view source)
      : tokens_(tokens), cidrs_(cidrs), source_(source), routes_(cidrs.DefaultRoutes()) {}

  Result<void> Render(size_t begin, size_t end, std::string& out) {
    for (size_t i = begin; i < end; ++i) {
      const Token& token = tokens_[i];
      if (!token.action) {
        out += token.text;
        continue;
      }
      const std::string& action = token.text;
      if (action.starts_with("/*") && action.ends_with("*/")) {
        continue;
      }
      if (action == ".PodCIDR") {
        out += cidrs_.ranges.empty() ? "" : cidrs_.ranges.front();
      } else if (action.starts_with("range ") || action.starts_with("if ")) {
        CR_ASSIGN_OR_RETURN(size_t close, MatchingEnd(i));
        CR_RETURN_IF_ERROR(action.starts_with("range ") ? Range(action, i + 1, close, out)
                                                        : If(action, i + 1, close, out));
        i = close;
      } else if (auto value = values_.find(action); value != values_.end()) {
        out += value->second;
      } else {
        return Bad("unsupported template action {{" + action + "}}");
      }
    }
    return Ok();
  }

 private:
  Error Bad(const std::string& why) const {
    return Error(Code::kFailedPrecondition, std::string(source_) + ": " + why);
  }

  Result<size_t> MatchingEnd(size_t open) const {
    int depth = 0;
    for (size_t i = open; i < tokens_.size(); ++i) {
      if (Opens(tokens_[i])) {
        ++depth;
      } else if (tokens_[i].action && tokens_[i].text == "end" && --depth == 0) {
        return i;
      }
    }
    return Bad("{{" + tokens_[open].text + "}} has no {{end}}");
  }

  // "range $i, $r := .PodCIDRRanges" or "range $r := .Routes".
  Result<void> Range(const std::string& action, size_t begin, size_t end, std::string& out) {
    std::string_view rest = std::string_view(action).substr(6);
    size_t assign = rest.find(":=");
    if (assign == std::string_view::npos) {
      return Bad("unsupported template action {{" + action + "}}");
    }
    std::string_view field = Strip(rest.substr(assign + 2));
    std::string_view vars = Strip(rest.substr(0, assign));
    std::string index_var;
    std::string value_var(vars);
    if (size_t comma = vars.find(','); comma != std::string_view::npos) {
      index_var = Strip(vars.substr(0, comma));
      value_var = Strip(vars.substr(comma + 1));
    }
    const std::vector<std::string>* items = field == ".PodCIDRRanges" ? &cidrs_.ranges
                                            : field == ".Routes"      ? &routes_
                                                                      : nullptr;
    if (items == nullptr || !value_var.starts_with('$') ||
        (!index_var.empty() && !index_var.starts_with('$'))) {
      return Bad("unsupported template action {{" + action + "}}");
    }
    for (size_t k = 0; k < items->size(); ++k) {
      values_[value_var] = (*items)[k];
      if (!index_var.empty()) {
        indexes_[index_var] = k;
      }
      CR_RETURN_IF_ERROR(Render(begin, end, out));
    }
    values_.erase(value_var);
    indexes_.erase(index_var);
    return Ok();
  }

  // "if $i": true from a range's second iteration on (Go: a non-zero int).
  Result<void> If(const std::string& action, size_t begin, size_t end, std::string& out) {
    auto index = indexes_.find(std::string(Strip(std::string_view(action).substr(3))));
    if (index == indexes_.end()) {
      return Bad("unsupported template action {{" + action + "}}");
    }
    return index->second != 0 ? Render(begin, end, out) : Ok();
  }

  const std::vector<Token>& tokens_;
  const PodCidrs& cidrs_;
  std::string_view source_;
  std::vector<std::string> routes_;
  std::map<std::string, std::string> values_;  // $r -> the current item
  std::map<std::string, size_t> indexes_;      // $i -> the current index
};

}  // namespace

Result<std::string> RenderCniConfTemplate(std::string_view tmpl, const PodCidrs& cidrs,
                                          std::string_view source) {
  CR_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(tmpl, source));
  std::string out;
  Renderer renderer(tokens, cidrs, source);
  CR_RETURN_IF_ERROR(renderer.Render(0, tokens.size(), out));
  return out;
}

Result<std::string> WriteCniConfFromTemplate(const std::string& template_path,
                                             const std::string& conf_dir, const PodCidrs& cidrs) {
  const std::string source = "network.cni_conf_template " + template_path;
  auto tmpl = ReadFile(template_path);
  if (!tmpl.ok()) {
    return Error(Code::kFailedPrecondition, source + ": " + tmpl.error().message());
  }
  CR_ASSIGN_OR_RETURN(std::string conf, RenderCniConfTemplate(*tmpl, cidrs, source));
  const std::string path = conf_dir + "/" + std::string(kGeneratedCniConfName);
  if (auto parsed = ParseCniConfig(conf, path); !parsed.ok()) {
    return Error(Code::kFailedPrecondition,
                 source + ": the result is not a CNI configuration: " + parsed.error().message());
  }
  CR_RETURN_IF_ERROR(MakeDirs(conf_dir, 0755));
  CR_RETURN_IF_ERROR(WriteFileAtomic(path, conf, 0644, Durability::kPowerLoss));
  return path;
}

}  // namespace cricket::network
