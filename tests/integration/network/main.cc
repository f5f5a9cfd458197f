#include <gtest/gtest.h>

#include "tests/support/isolated_netns.h"

// Isolates the whole test process before gtest (or anything else) starts a thread.
int main(int argc, char** argv) {
  cricket::testing::EnterIsolatedNetwork();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
