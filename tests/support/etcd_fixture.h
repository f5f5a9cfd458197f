#pragma once

// EtcdServer: a throw-away single-member etcd on loopback for integration tests. It runs from
// $CRICKET_TEST_ETCD or `etcd` on PATH (Debian etcd-server), on free ports, with its data in a
// TempDir; the destructor kills it by PID (SIGKILL, reaped) and removes the data, also when the
// test fails. The child also gets PR_SET_PDEATHSIG, so a crashed test binary takes it along.

#include <sys/types.h>

#include <memory>
#include <string>

#include "tests/support/temp_dir.h"

namespace cricket::testing {

class EtcdServer {
 public:
  // The etcd binary to run, or "" when there is none.
  static std::string FindBinary();

  // Starts etcd and waits (up to 15 s) until /health answers. nullptr with `error` set on
  // failure (the log's tail included). Short raft timings, so leases can be as short as 1 s.
  static std::unique_ptr<EtcdServer> Start(std::string* error);

  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;
  ~EtcdServer();

  // "http://127.0.0.1:<port>"
  const std::string& endpoint() const { return endpoint_; }
  pid_t pid() const { return pid_; }
  // Kills and reaps it now (an etcd outage); the destructor then only removes the data.
  void Kill();

 private:
  EtcdServer() : dir_("etcd") {}

  TempDir dir_;
  std::string endpoint_;
  pid_t pid_ = -1;
};

// A free TCP port on 127.0.0.1 (bound, read and closed: another process may take it first).
int FreeLoopbackPort();

}  // namespace cricket::testing

// Skips the test when no etcd binary is installed, with a reason; fails it instead under CI,
// which installs etcd-server (hack/packages.d/volumes.list).
#define CR_REQUIRE_ETCD()                                                                     \
  do {                                                                                        \
    if (::cricket::testing::EtcdServer::FindBinary().empty()) {                               \
      if (::cricket::testing::InCi()) {                                                       \
        FAIL() << "etcd is not installed (Debian etcd-server, hack/packages.d/volumes.list)"; \
      }                                                                                       \
      GTEST_SKIP() << "etcd is not installed (apt-get install etcd-server)";                  \
    }                                                                                         \
  } while (false)
