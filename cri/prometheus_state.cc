#include "cri/prometheus_state.h"

#include <array>
#include <filesystem>

namespace cricket::cri::prometheus {
namespace {

void WritePods(MetadataStore& store, TextWriter& out) {
  auto sandboxes = store.ListSandboxes();
  if (!sandboxes.ok()) {
    return;
  }
  double ready = 0;
  double not_ready = 0;
  for (const SandboxRecord& s : *sandboxes) {
    (s.state == SandboxState::kReady ? ready : not_ready) += 1;
  }
  out.Family("cricket_pods", "gauge", "Pod sandboxes cricketd knows, by CRI state.");
  out.Sample("cricket_pods", {{"state", "ready"}}, ready);
  out.Sample("cricket_pods", {{"state", "notready"}}, not_ready);
}

void WriteContainers(MetadataStore& store, TextWriter& out) {
  auto containers = store.ListContainers();
  if (!containers.ok()) {
    return;
  }
  // Indexed by ContainerState (CRI's numbers).
  static constexpr std::array<const char*, 4> kStates = {"created", "running", "exited", "unknown"};
  std::array<double, 4> counts{};
  for (const ContainerRecord& c : *containers) {
    auto i = static_cast<size_t>(c.state);
    counts[i < counts.size() ? i : 3] += 1;
  }
  out.Family("cricket_containers", "gauge",
             "Containers cricketd knows, by the state its store last recorded.");
  for (size_t i = 0; i < kStates.size(); ++i) {
    out.Sample("cricket_containers", {{"state", kStates[i]}}, counts[i]);
  }
}

void WriteShims(const std::string& dir, TextWriter& out) {
  std::error_code ec;
  double count = 0;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return;
  }
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++count;
  }
  out.Family("cricket_shims", "gauge",
             "Shims cricketd started and has not removed (pod infra and container shims).");
  out.Sample("cricket_shims", {}, count);
}

void WriteVolumes(const storage::VolumeManager& volumes, TextWriter& out) {
  std::vector<storage::AttachedVolume> attached = volumes.Attached();
  out.Family("cricket_portable_volume_lease", "gauge",
             "Portable volumes attached on this node: 1 per volume, state held or stale (the "
             "lease was lost).");
  for (const auto& v : attached) {
    out.Sample("cricket_portable_volume_lease",
               {{"volume", v.volume}, {"state", v.stale ? "stale" : "held"}}, 1);
  }
  out.Family("cricket_portable_volume_restored_bytes_total", "counter",
             "Blob bytes downloaded to restore a portable volume at its attach on this node.");
  for (const auto& v : attached) {
    out.Sample("cricket_portable_volume_restored_bytes_total", {{"volume", v.volume}},
               static_cast<double>(v.restore_bytes_downloaded));
  }
  out.Family("cricket_portable_volume_uploaded_bytes_total", "counter",
             "Blob bytes a portable volume's snapshots uploaded since its attach on this node.");
  for (const auto& v : attached) {
    out.Sample("cricket_portable_volume_uploaded_bytes_total", {{"volume", v.volume}},
               static_cast<double>(v.bytes_uploaded));
  }
}

}  // namespace

void WriteStateMetrics(const StateSources& sources, TextWriter& out) {
  if (sources.store != nullptr) {
    WritePods(*sources.store, out);
    WriteContainers(*sources.store, out);
  }
  if (!sources.shims_dir.empty()) {
    WriteShims(sources.shims_dir, out);
  }
  out.Family("cricket_streaming_sessions", "gauge",
             "Exec, attach and port-forward connections the streaming server is serving.");
  out.Sample("cricket_streaming_sessions", {},
             sources.streaming != nullptr ? sources.streaming->active_connections() : 0);
  if (sources.volumes != nullptr) {
    WriteVolumes(*sources.volumes, out);
  }
}

}  // namespace cricket::cri::prometheus
