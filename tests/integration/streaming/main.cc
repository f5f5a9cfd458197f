#include <gtest/gtest.h>

#include "tests/support/isolated_netns.h"

// Isolates the whole test process (network and mount namespaces) before anything starts a
// thread, so the pod namespaces and their bind mounts never touch the host.
int main(int argc, char** argv) {
  cricket::testing::EnterIsolatedNetwork();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
