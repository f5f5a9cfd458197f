// ListMetricDescriptors, ListPodSandboxMetrics and StreamPodSandboxMetrics through cricketd (root):
// a container that burns CPU and holds memory, traffic to the pod's bridge. In the VM (cgroup v2)
// through cri_node_v2_vm's filter.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/cri/pod_fixture.h"

namespace cricket {
namespace {

using testing::PodFixture;
namespace v1 = ::runtime::v1;

class PodMetricsTest : public PodFixture {
 protected:
  void SetUp() override {
    PodFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    grpc::ClientContext ctx;
    v1::ListMetricDescriptorsResponse resp;
    grpc::Status status = runtime_->ListMetricDescriptors(&ctx, {}, &resp);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const auto& d : resp.descriptors()) {
      descriptors_[d.name()] = d;
    }
  }

  v1::ListPodSandboxMetricsResponse List() {
    grpc::ClientContext ctx;
    v1::ListPodSandboxMetricsResponse resp;
    grpc::Status status = runtime_->ListPodSandboxMetrics(&ctx, {}, &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return resp;
  }

  // A sample's label by key, through its descriptor, as kubelet pairs them.
  std::string Label(const v1::Metric& m, const std::string& key) {
    const auto& keys = descriptors_.at(m.name()).label_keys();
    for (int i = 0; i < keys.size() && i < m.label_values_size(); ++i) {
      if (keys[i] == key) {
        return m.label_values(i);
      }
    }
    return "<none>";
  }

  // The value of `name` among `metrics` whose `key` label is `value` (any when key is empty);
  // -1 when there is none. Checks every sample against its descriptor on the way.
  int64_t Value(const google::protobuf::RepeatedPtrField<v1::Metric>& metrics,
                const std::string& name, const std::string& key = "",
                const std::string& value = "") {
    int64_t found = -1;
    for (const auto& m : metrics) {
      EXPECT_TRUE(descriptors_.contains(m.name())) << m.name();
      if (!descriptors_.contains(m.name())) {
        continue;
      }
      EXPECT_EQ(m.label_values_size(), descriptors_.at(m.name()).label_keys_size()) << m.name();
      if (m.name() == name && (key.empty() || Label(m, key) == value)) {
        found = static_cast<int64_t>(m.value().value());
      }
    }
    return found;
  }

  const v1::PodSandboxMetrics* Find(const v1::ListPodSandboxMetricsResponse& resp,
                                    const std::string& pod) {
    for (const auto& p : resp.pod_metrics()) {
      if (p.pod_sandbox_id() == pod) {
        return &p;
      }
    }
    return nullptr;
  }

  std::map<std::string, v1::MetricDescriptor> descriptors_;
};

TEST_F(PodMetricsTest, DescriptorsNameWhatKubeletSelectsOn) {
  for (const char* name :
       {"container_cpu_usage_seconds_total", "container_memory_working_set_bytes",
        "container_memory_rss", "container_oom_events_total",
        "container_network_receive_bytes_total", "container_network_transmit_bytes_total",
        "container_processes", "container_start_time_seconds", "container_fs_usage_bytes"}) {
    ASSERT_TRUE(descriptors_.contains(name)) << name;
    EXPECT_EQ(descriptors_[name].label_keys(0), "id");
  }
}

TEST_F(PodMetricsTest, ARunningPodsMetricsMoveWithItsWork) {
  v1::PodSandboxConfig pod_config = PodConfig("metered");
  pod_config.mutable_metadata()->set_namespace_("metrics-ns");
  std::string pod = RunPod(pod_config);
  RunPod(PodConfig("bystander"));
  std::string ctr;
  // Holds 32 MiB in a shell variable (anonymous memory), then spins until told to stop.
  ASSERT_TRUE(CreateContainer(pod, pod_config, "burner",
                              "x=$(busybox yes | busybox head -c 33554432); "
                              "while [ ! -e /tmp/stop ]; do :; done; exec busybox sleep 1000",
                              &ctr)
                  .ok());
  ASSERT_TRUE(StartContainer(ctr).ok());

  // Network counters before the traffic.
  auto first = List();
  const v1::PodSandboxMetrics* before = Find(first, pod);
  ASSERT_NE(before, nullptr);
  const int64_t rx_before =
      Value(before->metrics(), "container_network_receive_bytes_total", "interface", "eth0");
  const int64_t tx_before =
      Value(before->metrics(), "container_network_transmit_bytes_total", "interface", "eth0");
  ASSERT_GE(rx_before, 0);
  ASSERT_GE(tx_before, 0);

  // Wait for a whole CPU second (Metric values are integers) and the 32 MiB.
  v1::ListPodSandboxMetricsResponse now;
  const v1::ContainerMetrics* metrics = nullptr;
  ASSERT_TRUE(WaitFor([&] {
    now = List();
    const v1::PodSandboxMetrics* p = Find(now, pod);
    metrics = p != nullptr && p->container_metrics_size() == 1 ? &p->container_metrics(0) : nullptr;
    return metrics != nullptr &&
           Value(metrics->metrics(), "container_cpu_usage_seconds_total") >= 1 &&
           Value(metrics->metrics(), "container_memory_rss") >= (32 << 20);
  })) << "cpu "
      << (metrics ? Value(metrics->metrics(), "container_cpu_usage_seconds_total") : -1) << " rss "
      << (metrics ? Value(metrics->metrics(), "container_memory_rss") : -1);
  v1::ExecSyncResponse out;
  ASSERT_TRUE(Exec(ctr, "busybox touch /tmp/stop", &out).ok());

  EXPECT_EQ(metrics->container_id(), ctr);
  const auto& samples = metrics->metrics();
  for (const auto& m : samples) {
    EXPECT_EQ(Label(m, "id"), ctr) << m.name();
    EXPECT_EQ(Label(m, "name"), "burner") << m.name();
    EXPECT_EQ(Label(m, "container"), "burner") << m.name();
    EXPECT_EQ(Label(m, "pod"), "metered") << m.name();
    EXPECT_EQ(Label(m, "namespace"), "metrics-ns") << m.name();
    EXPECT_EQ(Label(m, "image"), image_) << m.name();
    EXPECT_GT(m.timestamp(), 0) << m.name();
  }
  EXPECT_EQ(Value(samples, "container_cpu_usage_seconds_total", "cpu", "total"),
            Value(samples, "container_cpu_usage_seconds_total"));
  EXPECT_GE(Value(samples, "container_cpu_user_seconds_total") +
                Value(samples, "container_cpu_system_seconds_total") + 1,
            Value(samples, "container_cpu_usage_seconds_total"));
  EXPECT_GE(Value(samples, "container_memory_working_set_bytes"), 32 << 20);
  EXPECT_GE(Value(samples, "container_memory_usage_bytes"),
            Value(samples, "container_memory_working_set_bytes"));
  EXPECT_EQ(Value(samples, "container_oom_events_total"), 0);
  EXPECT_GE(Value(samples, "container_processes"), 1);
  EXPECT_GE(Value(samples, "container_threads"), Value(samples, "container_processes"));
  EXPECT_GT(Value(samples, "container_fs_limit_bytes"), 0);
  EXPECT_GE(Value(samples, "container_fs_usage_bytes"), 0);
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  EXPECT_NEAR(static_cast<double>(Value(samples, "container_start_time_seconds")),
              static_cast<double>(now_s), 300.0);
  for (const auto& m : samples) {
    if (m.name() == "container_cpu_usage_seconds_total" ||
        m.name() == "container_oom_events_total") {
      EXPECT_EQ(m.metric_type(), v1::MetricType::COUNTER) << m.name();
    }
    if (m.name() == "container_memory_working_set_bytes") {
      EXPECT_EQ(m.metric_type(), v1::MetricType::GAUGE) << m.name();
    }
  }

  // Traffic inside the pod's netns, to its bridge (never off the node).
  ASSERT_TRUE(Exec(ctr, "busybox ping -c 3 -i 0.2 -W 2 10.88.0.1", &out).ok());
  EXPECT_EQ(out.exit_code(), 0) << out.stdout() << out.stderr();
  auto after = List();
  const v1::PodSandboxMetrics* pod_after = Find(after, pod);
  ASSERT_NE(pod_after, nullptr);
  EXPECT_GE(
      Value(pod_after->metrics(), "container_network_receive_bytes_total", "interface", "eth0"),
      rx_before + 3 * 84);  // three echo replies of 84 bytes at least
  EXPECT_GE(
      Value(pod_after->metrics(), "container_network_transmit_bytes_total", "interface", "eth0"),
      tx_before + 3 * 84);
  EXPECT_GE(
      Value(pod_after->metrics(), "container_network_transmit_packets_total", "interface", "eth0"),
      3);
  EXPECT_EQ(Value(pod_after->metrics(), "container_network_receive_bytes_total", "interface", "lo"),
            -1);
  for (const auto& m : pod_after->metrics()) {
    EXPECT_EQ(Label(m, "id"), pod) << m.name();
    EXPECT_EQ(Label(m, "pod"), "metered") << m.name();
  }

  // The stream carries the same pods, the bystander without containers too.
  grpc::ClientContext ctx;
  auto reader = runtime_->StreamPodSandboxMetrics(&ctx, {});
  std::set<std::string> streamed;
  v1::StreamPodSandboxMetricsResponse chunk;
  while (reader->Read(&chunk)) {
    for (const auto& p : chunk.pod_sandbox_metrics()) {
      streamed.insert(p.pod_sandbox_id());
    }
  }
  grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::set<std::string> listed;
  for (const auto& p : after.pod_metrics()) {
    listed.insert(p.pod_sandbox_id());
  }
  EXPECT_EQ(streamed, listed);
  EXPECT_EQ(streamed.size(), 2u);
}

}  // namespace
}  // namespace cricket
