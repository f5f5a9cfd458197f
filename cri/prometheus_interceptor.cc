#include "cri/prometheus_interceptor.h"

#include <chrono>
#include <string>

#include <grpcpp/support/status.h>

namespace cricket::cri::prometheus {
namespace {

namespace exp = grpc::experimental;

// gRPC makes one per call, when the call starts, and deletes it when the call ends.
class RpcMetricsInterceptor final : public exp::Interceptor {
 public:
  RpcMetricsInterceptor(const char* method, CriMetrics& metrics)
      : method_(method != nullptr ? method : ""), metrics_(metrics) {}

  void Intercept(exp::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(exp::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      std::chrono::duration<double> took = std::chrono::steady_clock::now() - start_;
      metrics_.RecordRpc(method_, static_cast<int>(status.error_code()), took.count());
    }
    methods->Proceed();
  }

 private:
  // gRPC keeps the method string alive for at least the call, which this object does not outlive.
  const char* method_;
  CriMetrics& metrics_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

class RpcMetricsFactory final : public exp::ServerInterceptorFactoryInterface {
 public:
  explicit RpcMetricsFactory(CriMetrics& metrics) : metrics_(metrics) {}
  exp::Interceptor* CreateServerInterceptor(exp::ServerRpcInfo* info) override {
    return new RpcMetricsInterceptor(info->method(), metrics_);
  }

 private:
  CriMetrics& metrics_;
};

}  // namespace

std::unique_ptr<exp::ServerInterceptorFactoryInterface> NewRpcMetricsInterceptor(
    CriMetrics& metrics) {
  return std::make_unique<RpcMetricsFactory>(metrics);
}

}  // namespace cricket::cri::prometheus
