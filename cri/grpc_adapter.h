#pragma once

// The gRPC face of CriService: the only code that sees grpc::ServerContext or grpc::Status.
// For every RPC it sets the log fields, calls the handler, turns a stray exception into
// INTERNAL, logs the outcome once and converts the Error. RPCs without a handler yet answer
// UNIMPLEMENTED with a message naming the RPC.

#include <grpcpp/grpcpp.h>

#include <exception>
#include <string>
#include <string_view>

#include "common/log.h"
#include "cri/inflight_calls.h"
#include "cri/service.h"
#include "runtime/v1/api.grpc.pb.h"

namespace cricket::cri {

grpc::Status ToGrpc(const Error& error);

// One unary call: refused while draining, counted while it runs, a stray exception made
// INTERNAL, the outcome logged once with `fields`, the Error converted. `call` returns
// Result<void>. Shared by every adapter of cricketd's socket.
template <typename Call>
grpc::Status ServeCall(InflightCalls& calls, const log::Fields& fields, Call&& call) {
  if (!calls.Enter()) {
    return {grpc::StatusCode::UNAVAILABLE, "cricketd is shutting down"};
  }
  struct Leave {
    InflightCalls& calls;
    ~Leave() { calls.Exit(); }
  } leave{calls};
  Result<void> result = Ok();
  try {
    result = call();
  } catch (const std::exception& e) {
    result = Error(Code::kInternal, std::string("unexpected exception: ") + e.what());
  } catch (...) {
    result = Error(Code::kInternal, "unexpected exception");
  }
  if (!result.ok()) {
    log::Error(fields, "{}", result.error().ToString());
    return ToGrpc(result.error());
  }
  log::Trace(fields, "ok");
  return grpc::Status::OK;
}

// UNIMPLEMENTED naming the RPC, logged once.
grpc::Status Unimplemented(std::string_view rpc);

#define CR_RPC_(Name, Req, Resp)                                                      \
  grpc::Status Name(grpc::ServerContext*, const v1::Req*, v1::Resp*) override {       \
    return Unimplemented(#Name);                                                      \
  }
#define CR_STREAM_RPC_(Name, Req, Resp)                                               \
  grpc::Status Name(grpc::ServerContext*, const v1::Req*, grpc::ServerWriter<v1::Resp>*) \
      override {                                                                      \
    return Unimplemented(#Name);                                                      \
  }

class RuntimeServiceAdapter final : public v1::RuntimeService::Service {
 public:
  RuntimeServiceAdapter(CriService& service, InflightCalls& calls)
      : service_(service), calls_(calls) {}

#define CR_HANDLED_(Name)                                                                \
  grpc::Status Name(grpc::ServerContext* ctx, const v1::Name##Request* req,              \
                    v1::Name##Response* resp) override;
#include "cri/handled_runtime_rpcs.inc"
#undef CR_HANDLED_

  // A server stream that lasts until the client cancels it or cricketd shuts down; not counted
  // among the calls shutdown drains.
  grpc::Status GetContainerEvents(grpc::ServerContext* ctx, const v1::GetEventsRequest* req,
                                  grpc::ServerWriter<v1::ContainerEventResponse>* writer) override;

  // Server stream of bounded chunks (metrics_list.cc); counted like a unary call, ends early
  // when the client cancels.
  grpc::Status StreamPodSandboxMetrics(
      grpc::ServerContext* ctx, const v1::StreamPodSandboxMetricsRequest* req,
      grpc::ServerWriter<v1::StreamPodSandboxMetricsResponse>* writer) override;
  // The streaming lists: bounded like unary calls (counted, drained at shutdown); a cancelled
  // call stops building its list (cri/chunked_stream.h).
  grpc::Status StreamPodSandboxes(
      grpc::ServerContext* ctx, const v1::StreamPodSandboxesRequest* req,
      grpc::ServerWriter<v1::StreamPodSandboxesResponse>* writer) override;
  grpc::Status StreamContainers(grpc::ServerContext* ctx, const v1::StreamContainersRequest* req,
                                grpc::ServerWriter<v1::StreamContainersResponse>* writer) override;
  grpc::Status StreamContainerStats(
      grpc::ServerContext* ctx, const v1::StreamContainerStatsRequest* req,
      grpc::ServerWriter<v1::StreamContainerStatsResponse>* writer) override;
  grpc::Status StreamPodSandboxStats(
      grpc::ServerContext* ctx, const v1::StreamPodSandboxStatsRequest* req,
      grpc::ServerWriter<v1::StreamPodSandboxStatsResponse>* writer) override;

#include "cri/unimplemented_runtime_rpcs.inc"

 private:
  CriService& service_;
  InflightCalls& calls_;
};

class ImageServiceAdapter final : public v1::ImageService::Service {
 public:
  ImageServiceAdapter(CriService& service, InflightCalls& calls)
      : service_(service), calls_(calls) {}

  grpc::Status ListImages(grpc::ServerContext* ctx, const v1::ListImagesRequest* req,
                          v1::ListImagesResponse* resp) override;
  grpc::Status ImageStatus(grpc::ServerContext* ctx, const v1::ImageStatusRequest* req,
                           v1::ImageStatusResponse* resp) override;
  grpc::Status PullImage(grpc::ServerContext* ctx, const v1::PullImageRequest* req,
                         v1::PullImageResponse* resp) override;
  grpc::Status RemoveImage(grpc::ServerContext* ctx, const v1::RemoveImageRequest* req,
                           v1::RemoveImageResponse* resp) override;
  grpc::Status ImageFsInfo(grpc::ServerContext* ctx, const v1::ImageFsInfoRequest* req,
                           v1::ImageFsInfoResponse* resp) override;
  grpc::Status StreamImages(grpc::ServerContext* ctx, const v1::StreamImagesRequest* req,
                            grpc::ServerWriter<v1::StreamImagesResponse>* writer) override;

#include "cri/unimplemented_image_rpcs.inc"

 private:
  CriService& service_;
  InflightCalls& calls_;
};

#undef CR_RPC_
#undef CR_STREAM_RPC_

}  // namespace cricket::cri
