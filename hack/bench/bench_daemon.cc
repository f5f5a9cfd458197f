#include "hack/bench/bench_daemon.h"

#include <signal.h>

#include <iostream>
#include <utility>

#include "tests/support/cri_calls.h"

namespace cricket::bench {

BenchDaemon::BenchDaemon(const BenchNode& node, std::string cricketd, std::string label)
    : node_(node), cricketd_(std::move(cricketd)), label_(std::move(label)) {}

BenchDaemon::~BenchDaemon() { Stop(); }

bool BenchDaemon::Start(const std::string& image) {
  EvictCricketBinaries(cricketd_);
  process_ = std::make_unique<cricket::testing::CricketdProcess>(cricketd_, node_.CricketdArgs(),
                                                                 node_.log());
  if (!process_->WaitReady(node_.socket(), std::chrono::seconds(60))) {
    std::cerr << label_ << ": cricketd did not start: " << process_->Stderr();
    return false;
  }
  auto channel = cricket::testing::UnixChannel(node_.socket());
  runtime_ = ::runtime::v1::RuntimeService::NewStub(channel);
  images_ = ::runtime::v1::ImageService::NewStub(channel);
  volumes_ = ::cricket::admin::v1::Volumes::NewStub(channel);
  if (auto s = cricket::testing::PullImage(*images_, image); !s.ok()) {
    std::cerr << label_ << ": pull " << image << ": " << s.error_message() << "\n";
    return false;
  }
  return true;
}

void BenchDaemon::Stop(std::chrono::seconds within) {
  if (process_ == nullptr) {
    return;
  }
  if (runtime_ != nullptr) {
    (void)cricket::testing::RemoveAllPods(*runtime_);
  }
  process_->Signal(SIGTERM);
  (void)process_->WaitExit(within);
  process_.reset();  // SIGKILLs it if it did not exit
}

}  // namespace cricket::bench
