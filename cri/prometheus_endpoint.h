#pragma once

// cricketd's `GET /metrics`: the server of cri/prometheus_server.h answering with, in order,
// the call and pull counters (cri/prometheus_metrics.h), what cricketd holds now
// (cri/prometheus_state.h) and its own process (cri/prometheus_process.h).

#include <memory>

#include "common/result.h"
#include "cri/prometheus_config.h"
#include "cri/prometheus_metrics.h"
#include "cri/prometheus_server.h"
#include "cri/prometheus_state.h"

namespace cricket::cri::prometheus {

// The whole page, as one scrape returns it.
std::string RenderMetrics(const CriMetrics& metrics, const StateSources& sources);

// Serves on config.address (which must be set and valid: cri/config.cc checked it). `metrics`
// and what `sources` point at must outlive the server. Errors are MetricsServer::Start's,
// wrapped "metrics.address <address>".
Result<std::unique_ptr<MetricsServer>> StartMetricsEndpoint(const MetricsConfig& config,
                                                            const CriMetrics& metrics,
                                                            StateSources sources);

}  // namespace cricket::cri::prometheus
