#include "cri/shim_access.h"

namespace cricket::cri {
namespace {

class ClientConnection final : public ShimConnection {
 public:
  explicit ClientConnection(const std::string& shim_dir) : client_(shim_dir + "/control.sock") {}

  Result<shim::ShimStatus> Status() override { return client_.Status(); }
  Result<void> Start() override { return client_.Start(); }
  Result<void> Kill(int signal, bool all) override { return client_.Kill(signal, all); }
  Result<int> Wait(std::chrono::milliseconds timeout) override { return client_.Wait(timeout); }
  Result<void> ReopenLog() override { return client_.ReopenLog(); }
  Result<void> Resize(int width, int height) override { return client_.Resize(width, height); }
  Result<void> Delete(bool force) override { return client_.Delete(force); }
  Result<shim::ExecSyncResult> ExecSync(const oci::Process& process,
                                        std::chrono::milliseconds timeout) override {
    return client_.ExecSync(process, timeout);
  }
  Result<shim::ExecHandle> StartExec(const oci::Process& process, int stdin_fd, int stdout_fd,
                                     int stderr_fd) override {
    return client_.StartExec(process, stdin_fd, stdout_fd, stderr_fd);
  }
  Result<UniqueFd> Attach(int stdin_fd, int stdout_fd, int stderr_fd, bool tty) override {
    return client_.Attach(stdin_fd, stdout_fd, stderr_fd, tty);
  }
  Result<UniqueFd> Connect() override { return client_.Connect(); }

 private:
  shim::ShimClient client_;
};

class ProcessShims final : public ShimAccess {
 public:
  ProcessShims(std::string shim_binary, int shim_exe_fd)
      : shim_binary_(std::move(shim_binary)), shim_exe_fd_(shim_exe_fd) {}

  Result<void> Launch(const shim::ShimOptions& options,
                      std::chrono::milliseconds timeout) override {
    return shim::LaunchShim(shim_binary_, options, timeout, shim_exe_fd_);
  }
  std::unique_ptr<ShimConnection> Connect(const std::string& shim_dir) override {
    return std::make_unique<ClientConnection>(shim_dir);
  }

 private:
  const std::string shim_binary_;
  const int shim_exe_fd_;
};

}  // namespace

std::unique_ptr<ShimAccess> NewProcessShims(std::string shim_binary, int shim_exe_fd) {
  return std::make_unique<ProcessShims>(std::move(shim_binary), shim_exe_fd);
}

}  // namespace cricket::cri
