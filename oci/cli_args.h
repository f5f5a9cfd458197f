#pragma once

// Command-line parsing for cricket-runtime, in runc's shapes: global flags, then a command,
// its flags and its positional arguments. Flags may be written --name, -name or a one-letter
// alias, with the value as the next argument or after '='. Pure, so unit-tested.

#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace cricket::oci::cli {

struct FlagSpec {
  const char* name;    // "bundle"
  char alias;          // 'b', or 0
  bool takes_value;
  bool repeatable = false;  // values accumulate ("--env A --env B")
};

struct ParsedArgs {
  std::map<std::string, std::vector<std::string>> flags;  // bool flags hold one "true"
  std::vector<std::string> positional;

  bool Has(const std::string& name) const { return flags.count(name) != 0; }
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> All(const std::string& name) const;
};

// Parses args[begin..] until the first positional argument when stop_at_positional (for the
// global flags before the command), else to the end ("--" ends the flags). kInvalidArgument
// for an unknown flag or a missing value. `next` receives the index of the first unparsed arg.
Result<ParsedArgs> ParseFlags(const std::vector<std::string>& args, size_t begin,
                              const std::vector<FlagSpec>& specs, bool stop_at_positional,
                              size_t* next);

// "TERM", "SIGTERM", "15" -> 15. kInvalidArgument otherwise.
Result<int> ParseSignal(const std::string& text);

}  // namespace cricket::oci::cli
