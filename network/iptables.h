#pragma once

// Iptables: the few iptables operations Cricket needs, by running the node's `iptables` (the
// nft or legacy backend, whichever Debian's alternatives select) with -w so concurrent callers
// wait for the xtables lock. Errors carry iptables' own message.

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/subprocess.h"

namespace cricket::network {

class Iptables {
 public:
  // Runs one iptables command line to completion (RunSubprocess in production; tests fake it).
  using CommandRunner =
      std::function<Result<SubprocessResult>(const std::vector<std::string>& argv)>;

  // kNotFound when no iptables binary is installed.
  static Result<Iptables> Find();
  // `binary` run through `run`: the seam unit tests use.
  Iptables(std::string binary, CommandRunner run)
      : binary_(std::move(binary)), run_(std::move(run)) {}

  // Creates `chain` in `table` if missing.
  Result<void> EnsureChain(const std::string& table, const std::string& chain);
  // Appends the rule unless an identical one exists (`-C` first).
  Result<void> EnsureRule(const std::string& table, const std::string& chain,
                          const std::vector<std::string>& rule);
  // Inserts at the top unless an identical rule exists.
  Result<void> EnsureRuleFirst(const std::string& table, const std::string& chain,
                               const std::vector<std::string>& rule);
  // Deletes the rule; a missing rule or chain is OK.
  Result<void> DeleteRule(const std::string& table, const std::string& chain,
                          const std::vector<std::string>& rule);
  // Deletes every rule of `chain` whose `-m comment --comment` is exactly `comment`, whatever
  // else it matches, so a rule is found by its owner rather than by its current arguments.
  // A missing chain is OK; kInternal when iptables refuses to delete a rule it listed.
  Result<void> DeleteRulesWithComment(const std::string& table, const std::string& chain,
                                      const std::string& comment);
  // Flushes and deletes `chain`; a missing chain is OK.
  Result<void> RemoveChain(const std::string& table, const std::string& chain);
  // Chain names of `table`.
  Result<std::vector<std::string>> ListChains(const std::string& table);
  // The rules of `chain` in `-S` form ("-A CHAIN ..."); kNotFound when the chain is missing.
  Result<std::vector<std::string>> ListRules(const std::string& table, const std::string& chain);

 private:
  // Runs iptables -w -t table args...; returns exit code, with stderr in errors.
  Result<int> Run(const std::string& table, const std::vector<std::string>& args,
                  std::string* out = nullptr, std::string* err = nullptr);

  std::string binary_;
  CommandRunner run_;
};

}  // namespace cricket::network
