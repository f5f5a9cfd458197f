#include "cri/metrics_collect.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cri/metrics_descriptors.h"

namespace cricket::cri {
namespace {

namespace v1 = ::runtime::v1;

std::map<std::string, v1::MetricDescriptor> Descriptors() {
  v1::ListMetricDescriptorsResponse resp;
  FillMetricDescriptors(resp);
  std::map<std::string, v1::MetricDescriptor> out;
  for (const auto& d : resp.descriptors()) {
    EXPECT_TRUE(out.emplace(d.name(), d).second) << "listed twice: " << d.name();
  }
  return out;
}

// The samples by name; each must have a descriptor whose label keys it matches one for one
// (kubelet drops a sample otherwise).
std::map<std::string, std::vector<v1::Metric>> ByName(
    const google::protobuf::RepeatedPtrField<v1::Metric>& metrics) {
  const auto descriptors = Descriptors();
  std::map<std::string, std::vector<v1::Metric>> out;
  for (const auto& m : metrics) {
    auto d = descriptors.find(m.name());
    EXPECT_NE(d, descriptors.end()) << "no descriptor for " << m.name();
    if (d != descriptors.end()) {
      EXPECT_EQ(m.label_values_size(), d->second.label_keys_size()) << m.name();
    }
    out[m.name()].push_back(m);
  }
  return out;
}

std::string Label(const v1::Metric& m, const std::string& key) {
  const auto descriptors = Descriptors();
  const auto& keys = descriptors.at(m.name()).label_keys();
  for (int i = 0; i < keys.size() && i < m.label_values_size(); ++i) {
    if (keys[i] == key) {
      return m.label_values(i);
    }
  }
  return "<no label " + key + ">";
}

MetricLabels PodLabels() {
  return {.id = "pod1",
          .name = "POD",
          .image = "",
          .pod_namespace = "ns",
          .pod = "web",
          .container = ""};
}

ContainerSample FakeSample() {
  ContainerSample s;
  s.labels = PodLabels();
  s.labels.id = "ctr1";
  s.labels.name = "app";
  s.labels.image = "busybox:latest";
  s.labels.container = "app";
  s.cgroup.cpu_usage_ns = 3'700'000'000;
  s.cgroup.cpu_user_ns = 2'900'000'000;
  s.cgroup.cpu_system_ns = 800'000'000;
  s.cgroup.memory_usage_bytes = 50 << 20;
  s.cgroup.memory_working_set_bytes = 40 << 20;
  s.cgroup.memory_rss_bytes = 30 << 20;
  s.cgroup.memory_cache_bytes = 20 << 20;
  s.cgroup.memory_limit_bytes = 64 << 20;
  s.cgroup.memory_failcnt = 5;
  s.cgroup.oom_kills = 1;
  s.cgroup.pids_current = 7;
  s.processes = 2;
  s.writable_layer = storage::DiskUsage{.used_bytes = 4096, .inodes_used = 3};
  s.started_at_ns = 1'700'000'000'500'000'000;
  s.spec_cpu_period = 100000;
  s.spec_cpu_quota = 50000;
  s.spec_cpu_shares = 512;
  return s;
}

TEST(MetricDescriptorsTest, EveryMetricOnceWithTheBaseLabelsFirst) {
  const auto descriptors = Descriptors();
  EXPECT_EQ(descriptors.size(), MetricSpecs().size());
  for (const auto& [name, d] : descriptors) {
    EXPECT_FALSE(d.help().empty()) << name;
    ASSERT_GE(d.label_keys_size(), 6) << name;
    EXPECT_EQ(std::vector<std::string>(d.label_keys().begin(), d.label_keys().begin() + 6),
              (std::vector<std::string>{"id", "name", "image", "namespace", "pod", "container"}))
        << name;
  }
  EXPECT_EQ(descriptors.at("container_cpu_usage_seconds_total").label_keys(6), "cpu");
  EXPECT_EQ(descriptors.at("container_network_receive_bytes_total").label_keys(6), "interface");
  EXPECT_EQ(descriptors.at("container_memory_rss").label_keys_size(), 6);
  // The names kubelet's /metrics/cadvisor users select on.
  for (const char* name : {"container_cpu_usage_seconds_total",
                           "container_cpu_user_seconds_total",
                           "container_cpu_system_seconds_total",
                           "container_memory_working_set_bytes",
                           "container_memory_rss",
                           "container_memory_usage_bytes",
                           "container_memory_cache",
                           "container_memory_failcnt",
                           "container_oom_events_total",
                           "container_network_receive_bytes_total",
                           "container_network_transmit_bytes_total",
                           "container_network_receive_packets_total",
                           "container_network_transmit_packets_total",
                           "container_network_receive_errors_total",
                           "container_network_transmit_errors_total",
                           "container_network_receive_packets_dropped_total",
                           "container_network_transmit_packets_dropped_total",
                           "container_fs_usage_bytes",
                           "container_fs_limit_bytes",
                           "container_fs_inodes_total",
                           "container_fs_inodes_free",
                           "container_processes",
                           "container_threads",
                           "container_start_time_seconds",
                           "container_last_seen",
                           "container_spec_memory_limit_bytes",
                           "container_spec_cpu_period",
                           "container_spec_cpu_quota",
                           "container_spec_cpu_shares"}) {
    EXPECT_TRUE(descriptors.contains(name)) << name;
  }
}

TEST(MetricDescriptorsTest, MetricSpecsAreIndexedById) {
  for (size_t i = 0; i < MetricSpecs().size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(MetricSpecs()[i].id), i);
    EXPECT_EQ(&SpecOf(MetricSpecs()[i].id), &MetricSpecs()[i]);
  }
}

TEST(MetricsCollectTest, ContainerSamplesFromCgroupStats) {
  v1::ContainerMetrics out;
  storage::FsCapacity fs{.bytes = 1 << 30, .inodes = 1000, .inodes_free = 600};
  const int64_t now_ns = 1'800'000'000'900'000'000;
  AddContainerMetrics(FakeSample(), fs, now_ns, out);
  auto by_name = ByName(out.metrics());
  // Every container-level descriptor has a sample; network ones are the pod's.
  for (const MetricSpec& spec : MetricSpecs()) {
    EXPECT_EQ(by_name.contains(spec.name), spec.extra != ExtraLabel::kInterface) << spec.name;
  }
  auto one = [&](const std::string& name) {
    EXPECT_EQ(by_name[name].size(), 1u) << name;
    return by_name[name].empty() ? v1::Metric() : by_name[name][0];
  };
  const v1::Metric cpu = one("container_cpu_usage_seconds_total");
  EXPECT_EQ(cpu.value().value(), 3u);  // whole seconds
  EXPECT_EQ(cpu.metric_type(), v1::MetricType::COUNTER);
  EXPECT_EQ(cpu.timestamp(), now_ns);
  EXPECT_EQ(Label(cpu, "cpu"), "total");
  EXPECT_EQ(Label(cpu, "id"), "ctr1");
  EXPECT_EQ(Label(cpu, "name"), "app");
  EXPECT_EQ(Label(cpu, "container"), "app");
  EXPECT_EQ(Label(cpu, "image"), "busybox:latest");
  EXPECT_EQ(Label(cpu, "pod"), "web");
  EXPECT_EQ(Label(cpu, "namespace"), "ns");
  EXPECT_EQ(one("container_cpu_user_seconds_total").value().value(), 2u);
  EXPECT_EQ(one("container_cpu_system_seconds_total").value().value(), 0u);
  const v1::Metric ws = one("container_memory_working_set_bytes");
  EXPECT_EQ(ws.value().value(), 40u << 20);
  EXPECT_EQ(ws.metric_type(), v1::MetricType::GAUGE);
  EXPECT_EQ(one("container_memory_usage_bytes").value().value(), 50u << 20);
  EXPECT_EQ(one("container_memory_rss").value().value(), 30u << 20);
  EXPECT_EQ(one("container_memory_cache").value().value(), 20u << 20);
  EXPECT_EQ(one("container_memory_failcnt").value().value(), 5u);
  EXPECT_EQ(one("container_oom_events_total").value().value(), 1u);
  EXPECT_EQ(one("container_oom_events_total").metric_type(), v1::MetricType::COUNTER);
  EXPECT_EQ(one("container_processes").value().value(), 2u);
  EXPECT_EQ(one("container_threads").value().value(), 7u);
  EXPECT_EQ(one("container_fs_usage_bytes").value().value(), 4096u);
  EXPECT_EQ(one("container_fs_inodes_used").value().value(), 3u);
  EXPECT_EQ(one("container_fs_limit_bytes").value().value(), 1u << 30);
  EXPECT_EQ(one("container_fs_inodes_total").value().value(), 1000u);
  EXPECT_EQ(one("container_fs_inodes_free").value().value(), 600u);
  EXPECT_EQ(one("container_start_time_seconds").value().value(), 1'700'000'000u);
  EXPECT_EQ(one("container_last_seen").value().value(), 1'800'000'000u);
  EXPECT_EQ(one("container_spec_memory_limit_bytes").value().value(), 64u << 20);
  EXPECT_EQ(one("container_spec_cpu_period").value().value(), 100000u);
  EXPECT_EQ(one("container_spec_cpu_quota").value().value(), 50000u);
  EXPECT_EQ(one("container_spec_cpu_shares").value().value(), 512u);
}

TEST(MetricsCollectTest, UnmeasuredFilesystemAndUnstartedContainerHaveNoSamples) {
  ContainerSample sample = FakeSample();
  sample.writable_layer.reset();
  sample.started_at_ns = 0;
  sample.spec_cpu_quota = -1;  // CRI: no quota
  v1::ContainerMetrics out;
  AddContainerMetrics(sample, std::nullopt, 1, out);
  auto by_name = ByName(out.metrics());
  for (const char* name :
       {"container_fs_usage_bytes", "container_fs_inodes_used", "container_fs_limit_bytes",
        "container_fs_inodes_total", "container_fs_inodes_free", "container_start_time_seconds"}) {
    EXPECT_FALSE(by_name.contains(name)) << name;
  }
  EXPECT_EQ(by_name["container_spec_cpu_quota"].at(0).value().value(), 0u);
}

TEST(MetricsCollectTest, NetworkSamplesPerInterfaceWithoutLoopback) {
  std::vector<network::InterfaceCounters> interfaces(3);
  interfaces[0].name = "lo";
  interfaces[0].rx_bytes = 999;
  interfaces[1] = {.name = "eth0",
                   .rx_bytes = 1000,
                   .rx_errors = 1,
                   .tx_bytes = 2000,
                   .tx_errors = 2,
                   .rx_packets = 10,
                   .rx_dropped = 3,
                   .tx_packets = 20,
                   .tx_dropped = 4};
  interfaces[2].name = "net1";
  interfaces[2].tx_bytes = 7;
  v1::PodSandboxMetrics out;
  AddPodNetworkMetrics(PodLabels(), interfaces, 42, out);
  auto by_name = ByName(out.metrics());
  EXPECT_EQ(out.metrics_size(), 16);  // 8 per interface, none for lo
  std::map<std::string, uint64_t> eth0;
  for (const auto& [name, samples] : by_name) {
    ASSERT_EQ(samples.size(), 2u) << name;
    EXPECT_EQ(samples[0].metric_type(), v1::MetricType::COUNTER) << name;
    EXPECT_EQ(Label(samples[0], "name"), "POD");
    EXPECT_EQ(Label(samples[0], "pod"), "web");
    EXPECT_EQ(Label(samples[0], "container"), "");
    for (const auto& m : samples) {
      EXPECT_NE(Label(m, "interface"), "lo");
      if (Label(m, "interface") == "eth0") {
        eth0[name] = m.value().value();
      }
    }
  }
  EXPECT_EQ(eth0["container_network_receive_bytes_total"], 1000u);
  EXPECT_EQ(eth0["container_network_receive_packets_total"], 10u);
  EXPECT_EQ(eth0["container_network_receive_errors_total"], 1u);
  EXPECT_EQ(eth0["container_network_receive_packets_dropped_total"], 3u);
  EXPECT_EQ(eth0["container_network_transmit_bytes_total"], 2000u);
  EXPECT_EQ(eth0["container_network_transmit_packets_total"], 20u);
  EXPECT_EQ(eth0["container_network_transmit_errors_total"], 2u);
  EXPECT_EQ(eth0["container_network_transmit_packets_dropped_total"], 4u);
}

}  // namespace
}  // namespace cricket::cri
