#pragma once

// A gtest fixture that runs a real cricketd on a fresh temp root/state with a config file of
// the test's own (so the host's /etc/cricket/config.toml never leaks in), a bridge name and CNI
// dir of its own (cricketd reconciles the pod network at start-up and must not touch a real
// node's), and gRPC stubs on its socket.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "common/files.h"
#include "runtime/v1/api.grpc.pb.h"
#include "tests/support/cricketd_process.h"
#include "tests/support/temp_dir.h"

namespace cricket::testing {

class CricketdFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    config_path_ = dir_.Join("config.toml");
    WriteConfig("");
  }

  std::string root() const { return dir_.Join("root"); }
  std::string state() const { return dir_.Join("state"); }
  std::string socket() const { return state() + "/cricket.sock"; }

  // Virtual: a test of another backend (e.g. CNI) brings its own section.
  virtual std::string NetworkSection() const {
    return "[network]\nbackend = \"bridge\"\nbridge = \"crd" + std::to_string(::getpid() % 100000) +
           "\"\ncni_conf_dir = \"" + dir_.Join("net.d") + "\"\n";
  }

  // The cgroup driver the tests run cricketd with: CRICKET_TEST_CGROUP_DRIVER (ctest's
  // cri_node_v2_systemd_vm sets "systemd" in hack/vm's systemd guest), else cricketd's default.
  static std::string CgroupDriver() {
    const char* driver = std::getenv("CRICKET_TEST_CGROUP_DRIVER");
    return driver != nullptr && *driver != '\0' ? driver : "cgroupfs";
  }

  // The config file: `extra` TOML followed by the test's network section, with the driver of
  // CgroupDriver() unless `extra` names one.
  void WriteConfig(const std::string& extra) {
    std::string driver;
    if (std::getenv("CRICKET_TEST_CGROUP_DRIVER") != nullptr &&
        extra.find("cgroup_driver") == std::string::npos) {
      driver = "cgroup_driver = \"" + CgroupDriver() + "\"\n";
    }
    ASSERT_TRUE(WriteFileAtomic(config_path_, driver + extra + "\n" + NetworkSection(), 0644).ok());
  }

  std::unique_ptr<CricketdProcess> Launch(std::vector<std::string> extra = {},
                                          const std::string& log_name = "cricketd.log") {
    std::vector<std::string> args = {"--root", root(), "--state", state(), "--config",
                                     config_path_};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<CricketdProcess>(cricketd_binary_, args, dir_.Join(log_name));
  }

  std::unique_ptr<CricketdProcess> LaunchReady() {
    auto daemon = Launch();
    EXPECT_TRUE(daemon->WaitReady(socket(), std::chrono::seconds(60))) << daemon->Stderr();
    return daemon;
  }

  std::unique_ptr<runtime::v1::RuntimeService::Stub> RuntimeStub() {
    return runtime::v1::RuntimeService::NewStub(UnixChannel(socket()));
  }
  std::unique_ptr<runtime::v1::ImageService::Stub> ImageStub() {
    return runtime::v1::ImageService::NewStub(UnixChannel(socket()));
  }

  TempDir dir_{"cricketd"};
  std::string config_path_;
  // What Launch runs; its helpers (cricket-shim, ...) are found beside it.
  std::string cricketd_binary_ = CRICKETD_PATH;
};

}  // namespace cricket::testing
