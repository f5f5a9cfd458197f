// cricketd's configuration as an operator meets it (issue #17): drop-ins beside config.toml,
// SIGHUP reloading what can change without a restart, path defaults that follow --root, and
// --print-config. A real daemon; images from the local registry fixture (hack/test-registry).

#include <signal.h>
#include <sys/wait.h>

#include <cstdio>

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/integration/cri/cricketd_fixture.h"
#include "tests/support/registry_fixture.h"
#include "tests/support/wait_until.h"

namespace cricket {
namespace {

using namespace std::chrono_literals;
using ::cricket::testing::WaitUntil;
namespace v1 = ::runtime::v1;

// Never resolved: every pull of it goes to its mirror (mirror_only), which the test swaps.
constexpr char kDomain[] = "reload.cricket.test";

class ConfigReloadTest : public ::cricket::testing::CricketdFixture {
 protected:
  void SetUp() override {
    CricketdFixture::SetUp();
    auto env = ::cricket::testing::RegistryFixtureEnv();
    if (env.count("REGISTRY") == 0) {
      GTEST_SKIP() << "needs the registry fixture: run through ctest (hack/test-registry/start)";
    }
    registry_ = env["REGISTRY"];
    ASSERT_TRUE(MakeDirs(dir_.Join("config.d"), 0755).ok());
  }

  void WriteDropIn(const std::string& name, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomic(dir_.Join("config.d/" + name), text, 0644).ok());
  }

  // `domain` with mirrors = [mirror], mirror_only.
  static std::string MirrorSection(const std::string& mirror) {
    return std::string("[registry.\"") + kDomain + "\"]\nmirrors = [\"" + mirror +
           "\"]\nmirror_only = true\n";
  }

  grpc::Status Pull(const std::string& ref) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 60s);
    v1::PullImageRequest req;
    req.mutable_image()->set_image(ref);
    v1::PullImageResponse resp;
    return ImageStub()->PullImage(&ctx, req, &resp);
  }

  v1::Image Status(const std::string& ref) {
    grpc::ClientContext ctx;
    v1::ImageStatusRequest req;
    req.mutable_image()->set_image(ref);
    v1::ImageStatusResponse resp;
    EXPECT_TRUE(ImageStub()->ImageStatus(&ctx, req, &resp).ok());
    return resp.image();
  }

  // Sends SIGHUP and waits for `line` in the log, counted from `from`.
  bool ReloadAndWaitFor(::cricket::testing::CricketdProcess& daemon, const std::string& line) {
    size_t from = daemon.Stderr().size();
    daemon.Signal(SIGHUP);
    return WaitUntil([&] { return daemon.Stderr().find(line, from) != std::string::npos; });
  }

  std::string registry_;
};

TEST_F(ConfigReloadTest, SighupSwapsMirrorsPinningAndLevelAndNamesRestartKeys) {
  const std::string ref = std::string(kDomain) + "/test/busybox:latest";
  // The mirror at first is a closed loopback port: pulls fail.
  WriteDropIn("10-mirror.toml", MirrorSection("http://127.0.0.1:1"));
  auto daemon = LaunchReady();
  EXPECT_FALSE(Pull(ref).ok());

  WriteDropIn("10-mirror.toml", MirrorSection("http://" + registry_) + "[images]\npinned = [\"" +
                                    ref + "\"]\n[streaming]\nmax_connections = 64\n");
  WriteDropIn("20-level.toml", "log_level = \"trace\"\n");
  ASSERT_TRUE(ReloadAndWaitFor(*daemon, "streaming.max_connections changed: needs a restart"))
      << daemon->Stderr();
  const std::string log = daemon->Stderr();
  EXPECT_NE(log.find(std::string("registry.\"") + kDomain + "\".mirrors changed: reloaded"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("images.pinned changed: reloaded"), std::string::npos) << log;
  EXPECT_NE(log.find("log_level changed: reloaded ('info' -> 'trace')"), std::string::npos) << log;

  // The next pull uses the new mirror; the image is pinned; trace lines (each call's "ok") are
  // written now.
  size_t before_pull = daemon->Stderr().size();
  grpc::Status pulled = Pull(ref);
  ASSERT_TRUE(pulled.ok()) << pulled.error_message() << "\n" << daemon->Stderr();
  EXPECT_TRUE(Status(ref).pinned());
  EXPECT_NE(daemon->Stderr().find(" trace rpc=PullImage", before_pull), std::string::npos)
      << daemon->Stderr().substr(before_pull);

  // A drop-in that does not parse changes nothing: the error names the file and line, the
  // daemon keeps serving with the configuration it has.
  WriteDropIn("30-bad.toml", "log_level = \"warn\"\n[images\n");
  ASSERT_TRUE(ReloadAndWaitFor(*daemon, "config reload failed")) << daemon->Stderr();
  EXPECT_NE(daemon->Stderr().find(dir_.Join("config.d/30-bad.toml") + ":2:"), std::string::npos)
      << daemon->Stderr();
  EXPECT_TRUE(Status(ref).pinned());
  grpc::ClientContext ctx;
  v1::VersionResponse version;
  EXPECT_TRUE(RuntimeStub()->Version(&ctx, {}, &version).ok());
}

// Issue #17: with --root elsewhere the portable volumes were still under /var/lib/cricket.
TEST_F(ConfigReloadTest, PortableVolumesFollowRoot) {
  auto daemon = LaunchReady();
  EXPECT_NE(daemon->Stderr().find("portable volumes under " + root() + "/portable "),
            std::string::npos)
      << daemon->Stderr();
}

TEST_F(ConfigReloadTest, PrintConfigShowsTheMergedResultAndExitsZero) {
  WriteDropIn("10-level.toml", "log_level = \"debug\"\n");
  std::string command =
      std::string(CRICKETD_PATH) + " --print-config --root /srv/c --config " + config_path_;
  FILE* out = ::popen(command.c_str(), "r");
  ASSERT_NE(out, nullptr);
  std::string printed;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), out)) > 0;) {
    printed.append(buf, n);
  }
  int status = ::pclose(out);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_NE(printed.find("log_level = \"debug\""), std::string::npos) << printed;
  EXPECT_NE(printed.find("portable_root = \"/srv/c/portable\""), std::string::npos) << printed;
  EXPECT_NE(printed.find(dir_.Join("config.d/10-level.toml")), std::string::npos) << printed;
}

}  // namespace
}  // namespace cricket
