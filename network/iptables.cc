#include "network/iptables.h"

#include <unistd.h>

#include <sstream>

#include "common/subprocess.h"

namespace cricket::network {
namespace {

std::vector<std::string> Concat(std::vector<std::string> head, const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
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
      return Iptables(path);
    }
  }
  return Error(Code::kNotFound, "iptables is not installed (looked in /usr/sbin, /sbin, /usr/bin)");
}

Result<int> Iptables::Run(const std::string& table, const std::vector<std::string>& args,
                          std::string* out, std::string* err) {
  std::vector<std::string> argv = Concat({binary_, "-w", "5", "-t", table}, args);
  CR_ASSIGN_OR_RETURN(SubprocessResult r, RunSubprocess(argv));
  if (out != nullptr) {
    *out = std::move(r.out);
  }
  if (err != nullptr) {
    *err = Trim(std::move(r.err));
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
