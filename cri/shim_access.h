#pragma once

// ShimAccess: how the CRI handlers reach container shims — launching one, and talking to the
// one in a shim dir. The daemon wires the real one (a cricket-shim process per container, its
// control socket at `<shim dir>/control.sock`); unit tests of the handlers wire a fake
// (tests/unit/cri/fake_shims.h), so no handler needs a subprocess to be tested.

#include <chrono>
#include <memory>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"
#include "oci/spec.h"
#include "shim/shim_client.h"
#include "shim/shim_options.h"

namespace cricket::cri {

// One shim's control calls, as shim::ShimClient describes them (kUnavailable when the shim is
// gone).
class ShimConnection {
 public:
  virtual ~ShimConnection() = default;
  virtual Result<shim::ShimStatus> Status() = 0;
  virtual Result<void> Start() = 0;
  virtual Result<void> Kill(int signal, bool all) = 0;
  virtual Result<int> Wait(std::chrono::milliseconds timeout) = 0;
  virtual Result<void> ReopenLog() = 0;
  virtual Result<void> Resize(int width, int height) = 0;
  virtual Result<void> Delete(bool force) = 0;
  virtual Result<shim::ExecSyncResult> ExecSync(const oci::Process& process,
                                                std::chrono::milliseconds timeout) = 0;
  virtual Result<shim::ExecHandle> StartExec(const oci::Process& process, int stdin_fd,
                                             int stdout_fd, int stderr_fd) = 0;
  virtual Result<UniqueFd> Attach(int stdin_fd, int stdout_fd, int stderr_fd, bool tty) = 0;
  // A raw connection to the control socket (Attach waits on one for the container's exit).
  virtual Result<UniqueFd> Connect() = 0;
};

// Thread-safe.
class ShimAccess {
 public:
  virtual ~ShimAccess() = default;
  // Starts a shim for `options` and waits until its container is created (shim::LaunchShim).
  virtual Result<void> Launch(const shim::ShimOptions& options,
                              std::chrono::milliseconds timeout) = 0;
  // The shim whose state dir is `shim_dir` (no I/O until a call).
  virtual std::unique_ptr<ShimConnection> Connect(const std::string& shim_dir) = 0;
};

// cricket-shim processes started from `shim_binary`, or from `shim_exe_fd` (a sealed handle on
// it, common/sealed_exe.h, owned by the caller) when >= 0.
std::unique_ptr<ShimAccess> NewProcessShims(std::string shim_binary, int shim_exe_fd);

}  // namespace cricket::cri
