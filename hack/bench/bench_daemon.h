#pragma once

// cricketd on a BenchNode with its gRPC stubs, for the benches that drive a whole node (pods,
// metrics, soak, volumes, migrate): started with the image every pod uses pulled, stopped with
// every pod removed. Start evicts cricketd's binaries from the page cache first, so the RSS the
// benches read is the after-reboot figure (see EvictCricketBinaries).

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "cricket/admin/v1/volumes.grpc.pb.h"
#include "hack/bench/bench_node.h"
#include "runtime/v1/api.grpc.pb.h"
#include "tests/support/cricketd_process.h"

namespace cricket::bench {

class BenchDaemon {
 public:
  // `label` starts each message on stderr ("node-a: pull ...").
  BenchDaemon(const BenchNode& node, std::string cricketd, std::string label = "cricketd");
  ~BenchDaemon();  // Stop()
  BenchDaemon(const BenchDaemon&) = delete;
  BenchDaemon& operator=(const BenchDaemon&) = delete;

  // Starts cricketd with the node's arguments and pulls `image`. False, with the reason on
  // stderr, when it does not serve within a minute or the pull fails.
  bool Start(const std::string& image);
  // Removes every pod the runtime lists, then SIGTERM and up to `within` for cricketd to exit
  // (SIGKILL after). Does nothing when not started.
  void Stop(std::chrono::seconds within = std::chrono::seconds(20));

  pid_t pid() const { return process_->pid(); }
  ::runtime::v1::RuntimeService::Stub& runtime() { return *runtime_; }
  ::runtime::v1::ImageService::Stub& images() { return *images_; }
  ::cricket::admin::v1::Volumes::Stub& volumes() { return *volumes_; }

 private:
  const BenchNode& node_;
  std::string cricketd_;
  std::string label_;
  std::unique_ptr<cricket::testing::CricketdProcess> process_;
  std::unique_ptr<::runtime::v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<::runtime::v1::ImageService::Stub> images_;
  std::unique_ptr<::cricket::admin::v1::Volumes::Stub> volumes_;
};

}  // namespace cricket::bench
