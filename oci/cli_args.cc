#include "oci/cli_args.h"

#include <csignal>

#include <charconv>

namespace cricket::oci::cli {
namespace {

const FlagSpec* Find(const std::vector<FlagSpec>& specs, const std::string& name) {
  for (const auto& spec : specs) {
    if (name == spec.name || (name.size() == 1 && spec.alias != 0 && name[0] == spec.alias)) {
      return &spec;
    }
  }
  return nullptr;
}

}  // namespace

std::string ParsedArgs::Get(const std::string& name, const std::string& fallback) const {
  auto it = flags.find(name);
  return it == flags.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> ParsedArgs::All(const std::string& name) const {
  auto it = flags.find(name);
  return it == flags.end() ? std::vector<std::string>{} : it->second;
}

Result<ParsedArgs> ParseFlags(const std::vector<std::string>& args, size_t begin,
                              const std::vector<FlagSpec>& specs, bool stop_at_positional,
                              size_t* next) {
  ParsedArgs out;
  size_t i = begin;
  bool flags_done = false;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_done || arg.size() < 2 || arg[0] != '-') {
      if (stop_at_positional) {
        break;
      }
      out.positional.push_back(arg);
      // Like Go's flag package under runc: flags end at the first positional argument, so
      // `exec ID sh -c x` hands "-c" to sh.
      flags_done = true;
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const FlagSpec* spec = Find(specs, name);
    if (spec == nullptr) {
      return Error(Code::kInvalidArgument, "unknown flag " + arg);
    }
    if (spec->takes_value && !has_value) {
      if (i + 1 >= args.size()) {
        return Error(Code::kInvalidArgument, "flag --" + std::string(spec->name) + " needs a value");
      }
      value = args[++i];
    } else if (!spec->takes_value) {
      value = has_value ? value : "true";
    }
    auto& values = out.flags[spec->name];
    if (!spec->repeatable) {
      values.clear();
    }
    values.push_back(value);
  }
  if (next != nullptr) {
    *next = i;
  }
  return out;
}

Result<int> ParseSignal(const std::string& text) {
  int number = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec == std::errc() && ptr == text.data() + text.size() && number > 0 && number < NSIG) {
    return number;
  }
  std::string name = text.rfind("SIG", 0) == 0 ? text.substr(3) : text;
  struct Entry {
    const char* name;
    int number;
  };
  static constexpr Entry kSignals[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
      {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"CONT", SIGCONT},
      {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"WINCH", SIGWINCH}, {"ABRT", SIGABRT},
      {"ALRM", SIGALRM}, {"PIPE", SIGPIPE}, {"CHLD", SIGCHLD}, {"TTIN", SIGTTIN},
      {"TTOU", SIGTTOU}, {"URG", SIGURG},   {"PWR", SIGPWR},   {"SYS", SIGSYS},
  };
  for (const auto& e : kSignals) {
    if (name == e.name) {
      return e.number;
    }
  }
  return Error(Code::kInvalidArgument, "unknown signal \"" + text + "\"");
}

}  // namespace cricket::oci::cli
