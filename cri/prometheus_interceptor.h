#pragma once

// A gRPC server interceptor that records every call on cricketd's socket into CriMetrics: its
// full method name, its status code, and the time from the call's start to its status. Every
// service registered on the server is covered, also RPCs cricket does not implement and calls
// refused while draining. Installed only when [metrics] address is set.

#include <memory>

#include <grpcpp/support/server_interceptor.h>

#include "cri/prometheus_metrics.h"

namespace cricket::cri::prometheus {

// `metrics` must outlive the server the factory is installed in.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewRpcMetricsInterceptor(
    CriMetrics& metrics);

}  // namespace cricket::cri::prometheus
