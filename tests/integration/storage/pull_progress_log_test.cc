// cricketd logs a long pull's progress at info every few seconds (issue #17.4). With the interval
// shortened (ImageStoreOptions::progress_log_interval_ms), a pull whose big layer comes over a
// slow link (FakeRegistry sends it in pieces) logs progress lines naming the reference, layers
// and bytes done of the total, and a rate; a quick pull at the default interval logs none.
// The log goes to a file of the test's for the test's length.

#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/log.h"
#include "common/syscalls.h"
#include "storage/image_store.h"
#include "tests/integration/storage/fake_registry.h"
#include "tests/integration/storage/test_store_options.h"
#include "tests/support/registry_fixture.h"
#include "tests/support/temp_dir.h"

namespace cricket::storage {
namespace {

// One progress line as image_store_pull.cc writes it.
struct ProgressLine {
  std::string ref;
  int64_t layers_done = 0;
  int64_t layers = 0;
  int64_t fetched = 0;
  int64_t total = 0;
  int64_t kib_per_second = 0;
};

class PullProgressLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = ::cricket::testing::RegistryFixtureEnv();
    if (env_.count("REGISTRY") == 0) {
      GTEST_SKIP() << "needs the registry fixture: run through ctest (hack/test-registry/start)";
    }
    log_path_ = dir_.Join("pull.log");
    ASSERT_TRUE(log::RedirectToFile(log_path_).ok());
    log::Init(log::Level::kInfo, log::Format::kText);
  }

  void TearDown() override {
    if (!log_path_.empty()) {
      (void)log::RedirectToFile("/dev/stderr");  // later tests in this process log as before
    }
  }

  std::unique_ptr<ImageStore> Open(int progress_log_interval_ms) {
    ImageStoreOptions options = TestStoreOptions(dir_.Join("root"));
    options.progress_log_interval_ms = progress_log_interval_ms;
    auto store = ImageStore::Open(options, sys_);
    EXPECT_TRUE(store.ok()) << store.error().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  std::string Log() { return ReadFile(log_path_).value_or(""); }

  std::vector<ProgressLine> ProgressLines() {
    static const std::regex kLine(
        R"(pull (\S+): (\d+)/(\d+) layers, (\d+) of (\d+) bytes, (\d+) KiB/s)");
    std::vector<ProgressLine> out;
    std::istringstream in(Log());
    for (std::string line; std::getline(in, line);) {
      std::smatch m;
      if (std::regex_search(line, m, kLine)) {
        out.push_back({m[1], std::stoll(m[2]), std::stoll(m[3]), std::stoll(m[4]), std::stoll(m[5]),
                       std::stoll(m[6])});
      }
    }
    return out;
  }

  std::map<std::string, std::string> env_;
  cricket::testing::TempDir dir_{"pull-log"};
  std::string log_path_;
  LinuxSyscalls sys_;
};

TEST_F(PullProgressLogTest, SlowPullLogsProgressLinesWithBytesAndRate) {
  const std::string layers = env_["BUSYBOX_LAYERS"];
  const std::string big_layer = layers.substr(0, layers.find(','));
  // The big layer in 8 pieces 150 ms apart: the pull takes about 1.2 s.
  testing::FakeRegistry fake(
      env_["STATE"] + "/images/busybox", "test/busybox",
      [&](const testing::FakeRequest& req, testing::FakeResponse& out) {
        if (req.path.find("/blobs/" + big_layer) == std::string::npos) {
          return false;
        }
        auto blob = ReadFile(env_["STATE"] + "/images/busybox/blobs/sha256/" + big_layer.substr(7));
        out.status = 200;
        out.body = blob.value_or("");
        out.piece_bytes = out.body.size() / 8 + 1;
        out.piece_pause_ms = 150;
        return true;
      });
  auto store = Open(/*progress_log_interval_ms=*/200);
  ASSERT_NE(store, nullptr);
  const std::string ref = fake.host() + "/test/busybox:latest";
  int64_t layer_bytes = 0;
  auto image = store->Pull(ref, {}, Deadline::max(), [&](const PullProgress& p) {
    layer_bytes = 0;
    for (const Descriptor& l : p.layers) {
      layer_bytes += l.size;
    }
  });
  ASSERT_TRUE(image.ok()) << image.error().ToString();

  std::vector<ProgressLine> lines = ProgressLines();
  ASSERT_GE(lines.size(), 2U) << Log();
  bool mid_layer = false;
  int64_t before = 0;
  for (const ProgressLine& l : lines) {
    EXPECT_EQ(l.ref, ref);
    EXPECT_EQ(l.layers, 2);
    EXPECT_LE(l.layers_done, 2);  // 2/2: downloaded, the last layer still unpacking
    EXPECT_EQ(l.total, layer_bytes);
    EXPECT_GE(l.fetched, before) << Log();
    before = l.fetched;
    mid_layer = mid_layer || (l.fetched > 0 && l.fetched < l.total);
    if (l.fetched > 0) {
      EXPECT_GT(l.kib_per_second, 0) << Log();
    }
  }
  EXPECT_TRUE(mid_layer) << "no line shows a layer partly downloaded:\n" << Log();
  // Progress is for a pull still running: all of it comes before the line of its result.
  EXPECT_GT(Log().find("pulled " + ref), Log().rfind(" KiB/s")) << Log();
}

// The default interval (about 5 s) keeps a quick pull's log as it was: only the "pulled" line.
TEST_F(PullProgressLogTest, QuickPullLogsNoProgress) {
  auto store = Open(ImageStoreOptions{}.progress_log_interval_ms);
  ASSERT_NE(store, nullptr);
  auto image = store->Pull(env_["REGISTRY"] + "/test/busybox:latest", {});
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  EXPECT_NE(Log().find("pulled " + env_["REGISTRY"] + "/test/busybox:latest as " + image->id),
            std::string::npos)
      << Log();
  EXPECT_TRUE(ProgressLines().empty()) << Log();
}

}  // namespace
}  // namespace cricket::storage
