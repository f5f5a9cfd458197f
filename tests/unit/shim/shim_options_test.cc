#include "shim/shim_options.h"

#include <gtest/gtest.h>

#include "shim/container_runtime.h"

namespace cricket::shim {
namespace {

TEST(ShimOptionsTest, RoundTripsWithAnExternalRuntime) {
  ShimOptions o;
  o.id = "c1";
  o.bundle = "/b";
  o.state_dir = "/s";
  o.log_path = "/l";
  o.runtime_root = "/r";
  o.runtime_binary = "/usr/sbin/runc";
  o.tty = true;
  auto parsed = ParseShimArgs(ShimArgs(o));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->runtime_binary, "/usr/sbin/runc");
  EXPECT_EQ(parsed->runtime_root, "/r");
  EXPECT_TRUE(parsed->tty);
  o.runtime_binary.clear();
  EXPECT_EQ(ParseShimArgs(ShimArgs(o))->runtime_binary, "");
  EXPECT_EQ(ParseShimArgs({"--runtime-binary"}).error().code(), Code::kInvalidArgument);
}

TEST(ShimOptionsTest, ExternalRuntimeCallsUseRuncsGlobalFlags) {
  EXPECT_EQ(ExternalRuntimeArgv("/usr/bin/crun", "/run/crun", "/s/runtime.log", {"start", "c1"}),
            (std::vector<std::string>{"/usr/bin/crun", "--root", "/run/crun", "--log",
                                      "/s/runtime.log", "--log-format", "json", "start", "c1"}));
}

}  // namespace
}  // namespace cricket::shim
