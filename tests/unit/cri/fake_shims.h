#pragma once

// Fakes of the CRI handlers' seams (cri/shim_access.h, network::PodNetworking): shims and a
// pod network that answer what the test scripts and record what they were asked.

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cri/shim_access.h"
#include "network/network_manager.h"

namespace cricket::cri::testing {

inline shim::ShimStatus LiveStatus(const std::string& state, int pid = 42) {
  shim::ShimStatus status;
  status.state = state;
  status.pid = pid;
  return status;
}

inline shim::ExitRecord ExitOf(int exit_code, int signal = 0) {
  shim::ExitRecord exit;
  exit.pid = 42;
  exit.exit_code = exit_code;
  exit.signal = signal;
  exit.started_at_ns = 1000;
  exit.finished_at_ns = 2000;
  return exit;
}

// What one fake shim answers and was asked; shared by every connection to its dir.
struct FakeShim {
  Result<shim::ShimStatus> status = LiveStatus("running");
  Result<void> start = Ok();
  Result<void> kill = Ok();
  Result<int> wait = 0;
  Result<void> remove = Ok();  // Delete
  // Set: a Kill ends the container with this record (Status reports it from then on).
  std::optional<shim::ExitRecord> exit_on_kill;
  std::vector<int> kills;  // signals sent
  int starts = 0;
  int deletes = 0;
};

class FakeShims final : public ShimAccess {
 public:
  // What Launch answers; on success the shim of options.state_dir exists from then on.
  Result<void> launch = Ok();
  // What a launched shim's Start answers.
  Result<void> start_after_launch = Ok();
  // Launch makes options.state_dir first, as a real shim does before it can fail.
  bool make_state_dir = false;
  std::vector<shim::ShimOptions> launched;

  // The shim whose state dir is `shim_dir` (made on first use, as a shim nobody launched:
  // gone, kUnavailable to every call, until the test says otherwise).
  FakeShim& At(const std::string& shim_dir) {
    std::lock_guard lock(mu_);
    auto [it, added] = shims_.try_emplace(shim_dir);
    if (added) {
      SetGone(it->second);
    }
    return it->second;
  }
  static void SetGone(FakeShim& shim) {
    const Error gone(Code::kUnavailable, "connect to shim: no such file or directory");
    shim.status = gone;
    shim.start = shim.kill = shim.remove = gone;
    shim.wait = gone;
  }

  Result<void> Launch(const shim::ShimOptions& options,
                      std::chrono::milliseconds /*timeout*/) override {
    std::lock_guard lock(mu_);
    launched.push_back(options);
    if (make_state_dir) {
      std::filesystem::create_directories(options.state_dir);
    }
    if (launch.ok()) {
      FakeShim& shim = shims_[options.state_dir];
      shim = FakeShim();
      shim.status = LiveStatus("created");
      shim.start = start_after_launch;
    }
    return launch;
  }
  std::unique_ptr<ShimConnection> Connect(const std::string& shim_dir) override {
    return std::make_unique<Connection>(*this, shim_dir);
  }

 private:
  class Connection final : public ShimConnection {
   public:
    Connection(FakeShims& shims, std::string dir) : shims_(shims), dir_(std::move(dir)) {}
    Result<shim::ShimStatus> Status() override { return shim().status; }
    Result<void> Start() override {
      ++shim().starts;
      return shim().start;
    }
    Result<void> Kill(int signal, bool /*all*/) override {
      FakeShim& s = shim();
      s.kills.push_back(signal);
      if (s.kill.ok() && s.exit_on_kill && s.status.ok()) {
        s.status->state = "stopped";
        s.status->exit = s.exit_on_kill;
      }
      return s.kill;
    }
    Result<int> Wait(std::chrono::milliseconds /*timeout*/) override { return shim().wait; }
    Result<void> ReopenLog() override { return shim().start; }
    Result<void> Resize(int /*width*/, int /*height*/) override { return Ok(); }
    Result<void> Delete(bool /*force*/) override {
      ++shim().deletes;
      return shim().remove;
    }
    Result<shim::ExecSyncResult> ExecSync(const oci::Process& /*process*/,
                                          std::chrono::milliseconds /*timeout*/) override {
      return Error(Code::kUnimplemented, "fake shim: exec");
    }
    Result<shim::ExecHandle> StartExec(const oci::Process& /*process*/, int /*stdin_fd*/,
                                       int /*stdout_fd*/, int /*stderr_fd*/) override {
      return Error(Code::kUnimplemented, "fake shim: exec");
    }
    Result<UniqueFd> Attach(int /*stdin_fd*/, int /*stdout_fd*/, int /*stderr_fd*/,
                            bool /*tty*/) override {
      return Error(Code::kUnimplemented, "fake shim: attach");
    }
    Result<UniqueFd> Connect() override { return Error(Code::kUnimplemented, "fake shim"); }

   private:
    FakeShim& shim() { return shims_.At(dir_); }
    FakeShims& shims_;
    std::string dir_;
  };

  std::mutex mu_;
  std::map<std::string, FakeShim> shims_;  // Guarded by mu_ (the map; tests are one thread).
};

class FakeNetwork final : public network::PodNetworking {
 public:
  Result<network::PodNetworkStatus> setup = Wired();
  std::vector<std::string> set_up;     // sandbox ids
  std::vector<std::string> torn_down;  // sandbox ids

  const std::string& backend_name() const override { return name_; }
  std::string NetnsPath(const std::string& sandbox_id) const override {
    return "/run/fake-netns/" + sandbox_id;
  }
  Result<void> Ready() override { return Ok(); }
  Result<network::PodNetworkStatus> SetupPod(network::PodNetworkConfig config) override {
    set_up.push_back(config.sandbox_id);
    return setup;
  }
  Result<void> TeardownPod(network::PodNetworkConfig config) override {
    torn_down.push_back(config.sandbox_id);
    return Ok();
  }
  Result<void> update_pod_cidr = Ok();
  std::vector<std::string> pod_cidrs;  // what UpdatePodCidr got
  Result<void> UpdatePodCidr(const std::string& pod_cidr) override {
    pod_cidrs.push_back(pod_cidr);
    return update_pod_cidr;
  }
  std::string pod_cidr() override { return pod_cidrs.empty() ? "" : pod_cidrs.back(); }

 private:
  static network::PodNetworkStatus Wired() {
    network::PodNetworkStatus status;
    status.ips = {"10.88.0.2"};
    return status;
  }
  std::string name_ = "fake";
};

}  // namespace cricket::cri::testing
