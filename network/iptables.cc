#include "network/iptables.h"

#include <unistd.h>

#include <sstream>

#include "common/subprocess.h"
#include "common/text.h"

namespace cricket::network {
namespace {

std::vector<std::string> Concat(std::vector<std::string> head,
                                const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

// Splits one `iptables -S` line into the words iptables was given. iptables prints a word with
// spaces or quotes in double quotes, escaping `"` and `\` inside with a backslash
// (xtables_save_string), so those are undone here; nothing else is quoted.
std::vector<std::string> SplitSavedRule(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '\\' && i + 1 < line.size()) {
      word += line[++i];
    } else if (c == '"') {
      quoted = !quoted;
      in_word = true;
    } else if (!quoted && (c == ' ' || c == '\t')) {
      if (in_word) {
        words.push_back(std::move(word));
        word.clear();
      }
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) {
    words.push_back(std::move(word));
  }
  return words;
}

bool HasComment(const std::vector<std::string>& words, const std::string& comment) {
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    if (words[i] == "--comment" && words[i + 1] == comment) {
      return true;
    }
  }
  return false;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    out += out.empty() ? "" : " ";
    out += p;
  }
  return out;
}

}  // namespace

Result<Iptables> Iptables::Find() {
  for (const char* path : {"/usr/sbin/iptables", "/sbin/iptables", "/usr/bin/iptables"}) {
    if (::access(path, X_OK) == 0) {
      return Iptables(path,
                      [](const std::vector<std::string>& argv) { return RunSubprocess(argv); });
    }
  }
  return Error(Code::kNotFound, "iptables is not installed (looked in /usr/sbin, /sbin, /usr/bin)");
}

Result<int> Iptables::Run(const std::string& table, const std::vector<std::string>& args,
                          std::string* out, std::string* err) {
  std::vector<std::string> argv = Concat({binary_, "-w", "5", "-t", table}, args);
  CR_ASSIGN_OR_RETURN(SubprocessResult r, run_(argv));
  if (out != nullptr) {
    *out = std::move(r.out);
  }
  if (err != nullptr) {
    *err = std::string(TrimEnd(r.err));
  }
  return r.exit_code;
}

Result<void> Iptables::EnsureChain(const std::string& table, const std::string& chain) {
  std::string err;
  CR_ASSIGN_OR_RETURN(int rc, Run(table, {"-N", chain}, nullptr, &err));
  if (rc == 0 || err.find("exists") != std::string::npos) {
    return Ok();
  }
  return Error(Code::kInternal, "iptables -t " + table + " -N " + chain + ": " + err);
}

Result<void> Iptables::EnsureRule(const std::string& table, const std::string& chain,
                                  const std::vector<std::string>& rule) {
  CR_ASSIGN_OR_RETURN(int present, Run(table, Concat({"-C", chain}, rule)));
  if (present == 0) {
    return Ok();
  }
  std::string err;
  CR_ASSIGN_OR_RETURN(int rc, Run(table, Concat({"-A", chain}, rule), nullptr, &err));
  if (rc != 0) {
    return Error(Code::kInternal,
                 "iptables -t " + table + " -A " + chain + " " + Join(rule) + ": " + err);
  }
  return Ok();
}

Result<void> Iptables::EnsureRuleFirst(const std::string& table, const std::string& chain,
                                       const std::vector<std::string>& rule) {
  CR_ASSIGN_OR_RETURN(int present, Run(table, Concat({"-C", chain}, rule)));
  if (present == 0) {
    return Ok();
  }
  std::string err;
  CR_ASSIGN_OR_RETURN(int rc, Run(table, Concat({"-I", chain, "1"}, rule), nullptr, &err));
  if (rc != 0) {
    return Error(Code::kInternal,
                 "iptables -t " + table + " -I " + chain + " " + Join(rule) + ": " + err);
  }
  return Ok();
}

Result<void> Iptables::DeleteRule(const std::string& table, const std::string& chain,
                                  const std::vector<std::string>& rule) {
  // -D removes one copy; loop in case a crash between -C and -A ever left two.
  for (int i = 0; i < 16; ++i) {
    CR_ASSIGN_OR_RETURN(int rc, Run(table, Concat({"-D", chain}, rule)));
    if (rc != 0) {
      return Ok();
    }
  }
  return Ok();
}

Result<void> Iptables::DeleteRulesWithComment(const std::string& table, const std::string& chain,
                                              const std::string& comment) {
  auto rules = ListRules(table, chain);
  if (!rules.ok()) {
    return Ok();  // no such chain, so no such rule
  }
  for (const auto& rule : *rules) {
    std::vector<std::string> words = SplitSavedRule(rule);
    if (words.size() < 2 || !HasComment(words, comment)) {
      continue;
    }
    words[0] = "-D";  // the listed "-A <chain> <spec>" is the exact spec -D needs
    std::string err;
    CR_ASSIGN_OR_RETURN(int rc, Run(table, words, nullptr, &err));
    // Gone meanwhile (another Destroy) is what was wanted; anything else would leak the rule.
    if (rc != 0 && err.find("does a matching rule exist") == std::string::npos) {
      std::string message = "iptables -t ";
      message.append(table).append(" ").append(Join(words)).append(": ").append(err);
      return Error(Code::kInternal, message);
    }
  }
  return Ok();
}

Result<void> Iptables::RemoveChain(const std::string& table, const std::string& chain) {
  CR_ASSIGN_OR_RETURN(int flushed, Run(table, {"-F", chain}));
  if (flushed != 0) {
    return Ok();  // no such chain
  }
  std::string err;
  CR_ASSIGN_OR_RETURN(int rc, Run(table, {"-X", chain}, nullptr, &err));
  if (rc != 0) {
    return Error(Code::kFailedPrecondition, "iptables -t " + table + " -X " + chain + ": " + err);
  }
  return Ok();
}

Result<std::vector<std::string>> Iptables::ListChains(const std::string& table) {
  std::string out;
  std::string err;
  CR_ASSIGN_OR_RETURN(int rc, Run(table, {"-S"}, &out, &err));
  if (rc != 0) {
    return Error(Code::kInternal, "iptables -t " + table + " -S: " + err);
  }
  std::vector<std::string> chains;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string flag;
    std::string name;
    words >> flag >> name;
    if (flag == "-N" || flag == "-P") {
      chains.push_back(name);
    }
  }
  return chains;
}

Result<std::vector<std::string>> Iptables::ListRules(const std::string& table,
                                                     const std::string& chain) {
  std::string out;
  std::string err;
  CR_ASSIGN_OR_RETURN(int rc, Run(table, {"-S", chain}, &out, &err));
  if (rc != 0) {
    return Error(Code::kNotFound, "iptables -t " + table + " -S " + chain + ": " + err);
  }
  std::vector<std::string> rules;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("-A ")) {
      rules.push_back(line);
    }
  }
  return rules;
}

}  // namespace cricket::network
