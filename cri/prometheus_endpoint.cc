#include "cri/prometheus_endpoint.h"

#include "common/log.h"
#include "cri/prometheus_process.h"

namespace cricket::cri::prometheus {

std::string RenderMetrics(const CriMetrics& metrics, const StateSources& sources) {
  TextWriter out;
  metrics.Write(out);
  WriteStateMetrics(sources, out);
  WriteProcessMetrics(out);
  return out.Take();
}

Result<std::unique_ptr<MetricsServer>> StartMetricsEndpoint(const MetricsConfig& config,
                                                            const CriMetrics& metrics,
                                                            StateSources sources) {
  auto address = ParseMetricsAddress(config.address);
  if (!address.ok()) {
    return address.error().Wrap("metrics.address");
  }
  auto server = MetricsServer::Start(*address, [&metrics, sources = std::move(sources)] {
    return RenderMetrics(metrics, sources);
  });
  if (!server.ok()) {
    return server.error().Wrap("metrics.address " + config.address);
  }
  log::Info({}, "metrics on {}/metrics", (*server)->address());
  return server;
}

}  // namespace cricket::cri::prometheus
