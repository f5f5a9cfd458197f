#include "shim/shim_options.h"

namespace cricket::shim {

Result<ShimOptions> ParseShimArgs(const std::vector<std::string>& args) {
  ShimOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    if (flag == "--tty") {
      o.tty = true;
      continue;
    }
    if (flag == "--stdin") {
      o.stdin = true;
      continue;
    }
    if (flag == "--stdin-once") {
      o.stdin_once = true;
      continue;
    }
    if (flag == "--failpoints") {
      o.failpoints = true;
      continue;
    }
    std::string* target = flag == "--id"             ? &o.id
                          : flag == "--bundle"       ? &o.bundle
                          : flag == "--state-dir"    ? &o.state_dir
                          : flag == "--log-path"     ? &o.log_path
                          : flag == "--runtime-root" ? &o.runtime_root
                          : flag == "--runtime-binary" ? &o.runtime_binary
                          : flag == "--restore-from" ? &o.restore_from
                                                     : nullptr;
    if (target == nullptr) {
      return Error(Code::kInvalidArgument, "unknown flag " + flag);
    }
    if (i + 1 >= args.size()) {
      return Error(Code::kInvalidArgument, "flag " + flag + " needs a value");
    }
    *target = args[++i];
  }
  for (auto [name, value] : {std::pair{"--id", &o.id}, std::pair{"--bundle", &o.bundle},
                             std::pair{"--state-dir", &o.state_dir},
                             std::pair{"--log-path", &o.log_path},
                             std::pair{"--runtime-root", &o.runtime_root}}) {
    if (value->empty()) {
      return Error(Code::kInvalidArgument, std::string("missing ") + name);
    }
  }
  return o;
}

std::vector<std::string> ShimArgs(const ShimOptions& o) {
  std::vector<std::string> args = {"--id",        o.id,         "--bundle",       o.bundle,
                                   "--state-dir", o.state_dir,  "--log-path",     o.log_path,
                                   "--runtime-root", o.runtime_root};
  if (!o.runtime_binary.empty()) {
    args.insert(args.end(), {"--runtime-binary", o.runtime_binary});
  }
  if (o.tty) {
    args.emplace_back("--tty");
  }
  if (o.stdin) {
    args.emplace_back("--stdin");
  }
  if (o.stdin_once) {
    args.emplace_back("--stdin-once");
  }
  if (o.failpoints) {
    args.emplace_back("--failpoints");
  }
  if (!o.restore_from.empty()) {
    args.insert(args.end(), {"--restore-from", o.restore_from});
  }
  return args;
}

}  // namespace cricket::shim
