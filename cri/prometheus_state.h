#pragma once

// What cricketd holds right now, read at each scrape from what it already keeps in memory or
// in its metadata store (no shim calls, no walk of container files):
//   cricket_pods{state="ready|notready"}                                   gauge
//   cricket_containers{state="created|running|exited|unknown"}             gauge
//   cricket_shims              shim directories under <state>/shims (one per pod infra shim or
//                              container shim cricketd started and has not removed)   gauge
//   cricket_streaming_sessions connections the streaming server is serving         gauge
//   cricket_portable_volume_lease{volume,state="held|stale"}                gauge (1)
//   cricket_portable_volume_restored_bytes_total{volume}   bytes the attach downloaded
//   cricket_portable_volume_uploaded_bytes_total{volume}   bytes its snapshots uploaded
// The volume counters count from the volume's attach on this node (they start over at the next
// attach, as counters do at a restart).

#include <string>

#include "cri/metadata_store.h"
#include "cri/prometheus_text.h"
#include "cri/streaming/streaming_server.h"
#include "storage/volumes/volume_manager.h"

namespace cricket::cri::prometheus {

struct StateSources {
  MetadataStore* store = nullptr;
  std::string shims_dir;                                  // <state>/shims
  const streaming::StreamingServer* streaming = nullptr;  // null: not running
  const storage::VolumeManager* volumes = nullptr;        // null: none
};

// A source that fails (the store busy or broken) leaves its family out, never the scrape.
void WriteStateMetrics(const StateSources& sources, TextWriter& out);

}  // namespace cricket::cri::prometheus
