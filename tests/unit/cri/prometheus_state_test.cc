// The scrape-time gauges from a real metadata store in a temp dir and a fake shim directory.

#include "cri/prometheus_state.h"

#include <string>

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/support/prometheus_format_check.h"
#include "tests/support/temp_dir.h"

namespace cricket::cri::prometheus {
namespace {

TEST(StateMetricsTest, PodsAndContainersByStateAndShimDirectories) {
  ::cricket::testing::TempDir dir;
  auto store = MetadataStore::Open(dir.Join("root"));
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  auto sandbox = [&](const std::string& id, SandboxState state) {
    SandboxRecord r;
    r.id = id;
    r.name = id;
    r.state = state;
    ASSERT_TRUE((*store)->PutSandbox(r).ok());
  };
  sandbox("p1", SandboxState::kReady);
  sandbox("p2", SandboxState::kReady);
  sandbox("p3", SandboxState::kNotReady);
  int n = 0;
  for (ContainerState state : {ContainerState::kRunning, ContainerState::kRunning,
                               ContainerState::kExited, ContainerState::kCreated}) {
    ContainerRecord r;
    r.id = "c" + std::to_string(++n);
    r.sandbox_id = "p1";
    r.name = r.id;
    r.state = state;
    ASSERT_TRUE((*store)->PutContainer(r).ok());
  }
  ASSERT_TRUE(MakeDirs(dir.Join("shims/a"), 0700).ok());
  ASSERT_TRUE(MakeDirs(dir.Join("shims/b"), 0700).ok());

  TextWriter out;
  WriteStateMetrics({store->get(), dir.Join("shims"), nullptr, nullptr}, out);
  const std::string& text = out.text();
  EXPECT_EQ(::cricket::testing::CheckExposition(text), "") << text;
  for (const char* line :
       {"cricket_pods{state=\"ready\"} 2\n", "cricket_pods{state=\"notready\"} 1\n",
        "cricket_containers{state=\"created\"} 1\n", "cricket_containers{state=\"running\"} 2\n",
        "cricket_containers{state=\"exited\"} 1\n", "cricket_containers{state=\"unknown\"} 0\n",
        "cricket_shims 2\n", "cricket_streaming_sessions 0\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "in:\n" << text;
  }
  EXPECT_EQ(text.find("cricket_portable_volume"), std::string::npos) << "no volume manager";

  TextWriter none;  // no shim directory yet: 0, not an error
  WriteStateMetrics({nullptr, dir.Join("missing"), nullptr, nullptr}, none);
  EXPECT_NE(none.text().find("cricket_shims 0\n"), std::string::npos) << none.text();
}

}  // namespace
}  // namespace cricket::cri::prometheus
