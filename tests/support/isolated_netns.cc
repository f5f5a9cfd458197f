#include "tests/support/isolated_netns.h"

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "network/netlink.h"

namespace cricket::testing {

bool EnterIsolatedNetwork() {
  if (::geteuid() != 0) {
    return false;
  }
  if (::unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
    std::perror("unshare(CLONE_NEWNET|CLONE_NEWNS)");
    std::abort();
  }
  // Our bind mounts (netns pins) must not propagate back to the host's mount namespace.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) {
    std::perror("make / rprivate");
    std::abort();
  }
  auto nl = network::Netlink::Open();
  if (!nl.ok() || !nl->SetUp(*nl->LinkIndex("lo")).ok()) {
    std::fputs("cannot bring up lo in the test namespace\n", stderr);
    std::abort();
  }
  return true;
}

}  // namespace cricket::testing
