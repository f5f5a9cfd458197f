#pragma once

// The command line of cricket-shim, shared by the shim (parsing) and cricketd (building it).
//
//   cricket-shim --id ID --bundle DIR --state-dir DIR --log-path FILE --runtime-root DIR
//                [--runtime-binary PATH] [--tty] [--stdin] [--stdin-once] [--failpoints]
//                [--restore-from DIR]

#include <string>
#include <vector>

#include "common/result.h"

namespace cricket::shim {

struct ShimOptions {
  std::string id;            // container id
  std::string bundle;        // OCI bundle (config.json + rootfs)
  std::string state_dir;     // control.sock, exit.json, shim.log
  std::string log_path;      // the CRI log file
  std::string runtime_root;  // the runtime's state root
  // An external OCI runtime with runc's command line; empty: Cricket's own, in-process.
  std::string runtime_binary;
  bool tty = false;
  bool stdin = false;
  bool stdin_once = false;
  // Takes the fail points of CRICKET_FAILPOINTS (common/failpoint.h): set for container shims.
  // A pod's infra shim does not, so the container rows of the crash matrix can fail a shim
  // while the pod it runs in stands.
  bool failpoints = false;
  // CRIU images to restore the container from (cri/checkpoint_restore.cc) instead of creating
  // it: the process comes back running, so `start` only marks it started.
  std::string restore_from;

  std::string control_socket() const { return state_dir + "/control.sock"; }
};

// kInvalidArgument naming the flag for an unknown or incomplete command line.
Result<ShimOptions> ParseShimArgs(const std::vector<std::string>& args);
std::vector<std::string> ShimArgs(const ShimOptions& options);

}  // namespace cricket::shim
