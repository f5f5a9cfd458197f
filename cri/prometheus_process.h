#pragma once

// The process collector of Prometheus' client libraries, for cricketd itself: what an operator
// compares across runtimes. Reads `<proc>/self/stat`, `<proc>/self/limits`, `<proc>/stat` and
// counts `<proc>/self/fd` at each scrape (a few small reads of procfs, no disk):
//   process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
//   process_open_fds, process_max_fds, process_threads, process_start_time_seconds.
// A file that cannot be read leaves its metrics out, never the scrape.

#include <string>

#include "cri/prometheus_text.h"

namespace cricket::cri::prometheus {

// `proc` is procfs' mount point; tests point it at a directory of fake files.
void WriteProcessMetrics(TextWriter& out, const std::string& proc = "/proc");

}  // namespace cricket::cri::prometheus
