#include "cri/grpc_adapter.h"

#include <string>
#include <utility>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "common/log.h"

namespace cricket::cri {
namespace {

// The pod and container a request is about, found by CRI's field names, for the log prefix.
std::string StringField(const google::protobuf::Message& msg, const char* name) {
  const auto* field = msg.GetDescriptor()->FindFieldByName(name);
  if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      field->is_repeated()) {
    return {};
  }
  return msg.GetReflection()->GetString(msg, field);
}

// The image a request names (`image.image`, or `filter.image.image`), for the log prefix.
std::string ImageField(const google::protobuf::Message& msg) {
  const auto* descriptor = msg.GetDescriptor();
  const google::protobuf::Message* holder = &msg;
  if (const auto* filter = descriptor->FindFieldByName("filter");
      filter != nullptr && filter->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE) {
    holder = &msg.GetReflection()->GetMessage(msg, filter);
  }
  const auto* image = holder->GetDescriptor()->FindFieldByName("image");
  if (image == nullptr || image->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE ||
      image->is_repeated()) {
    return {};
  }
  return StringField(holder->GetReflection()->GetMessage(*holder, image), "image");
}

// The client's deadline on our steady clock; Deadline::max() when it set none.
Deadline DeadlineOf(const grpc::ServerContext& ctx) {
  auto left = ctx.deadline() - std::chrono::system_clock::now();
  if (left > std::chrono::hours(24 * 365)) {
    return Deadline::max();
  }
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(left);
}

// The log fields of a request (its pod, container and image), then ServeCall.
template <typename Call>
grpc::Status Serve(InflightCalls& calls, std::string_view rpc, const google::protobuf::Message& req,
                   Call&& call) {
  std::string pod = StringField(req, "pod_sandbox_id");
  std::string ctr = StringField(req, "container_id");
  std::string image = ImageField(req);
  return ServeCall(calls, log::Fields{.rpc = rpc, .pod = pod, .ctr = ctr, .image = image},
                   std::forward<Call>(call));
}

// A streaming list: Serve with a sink over the call's writer and cancellation.
template <typename Req, typename Resp, typename Handler>
grpc::Status ServeStream(InflightCalls& calls, std::string_view rpc, grpc::ServerContext& ctx,
                         const Req& req, grpc::ServerWriter<Resp>& writer, Handler&& handler) {
  return Serve(calls, rpc, req, [&] {
    StreamSink<Resp> sink{.write = [&](const Resp& msg) { return writer.Write(msg); },
                          .cancelled = [&] { return ctx.IsCancelled(); }};
    return handler(sink);
  });
}

}  // namespace

grpc::Status ToGrpc(const Error& error) {
  return {static_cast<grpc::StatusCode>(error.code()), error.message()};
}

grpc::Status Unimplemented(std::string_view rpc) {
  log::Debug({.rpc = rpc}, "not implemented");
  return {grpc::StatusCode::UNIMPLEMENTED, std::string(rpc) + " is not implemented by cricket yet"};
}

#define CR_HANDLED_(Name)                                                                     \
  grpc::Status RuntimeServiceAdapter::Name(                                                   \
      grpc::ServerContext* /*ctx*/, const v1::Name##Request* req, v1::Name##Response* resp) { \
    return Serve(calls_, #Name, *req, [&] { return service_.Name(*req, *resp); });            \
  }
#include "cri/handled_runtime_rpcs.inc"
#undef CR_HANDLED_

grpc::Status RuntimeServiceAdapter::GetContainerEvents(
    grpc::ServerContext* ctx, const v1::GetEventsRequest* /*req*/,
    grpc::ServerWriter<v1::ContainerEventResponse>* writer) {
  const log::Fields fields{.rpc = "GetContainerEvents"};
  auto subscription = service_.SubscribeContainerEvents();
  log::Debug(fields, "client subscribed");
  // Wake now and then to notice a client that went away while no events came.
  while (!ctx->IsCancelled()) {
    auto next = subscription->Next(std::chrono::milliseconds(250));
    if (!next.ok()) {
      log::Info(fields, "event stream ended: {}", next.error().message());
      return ToGrpc(next.error());
    }
    if (next->has_value() && !writer->Write(**next)) {
      break;
    }
  }
  log::Debug(fields, "client gone");
  return grpc::Status::OK;
}

#define CR_STREAM_LIST_(Adapter, Name)                                                    \
  grpc::Status Adapter::Name(grpc::ServerContext* ctx, const v1::Name##Request* req,      \
                             grpc::ServerWriter<v1::Name##Response>* writer) {            \
    return ServeStream(                                                                   \
        calls_, #Name, *ctx, *req, *writer,                                               \
        [&](StreamSink<v1::Name##Response>& sink) { return service_.Name(*req, sink); }); \
  }
CR_STREAM_LIST_(RuntimeServiceAdapter, StreamPodSandboxes)
CR_STREAM_LIST_(RuntimeServiceAdapter, StreamContainers)
CR_STREAM_LIST_(RuntimeServiceAdapter, StreamContainerStats)
CR_STREAM_LIST_(RuntimeServiceAdapter, StreamPodSandboxStats)
CR_STREAM_LIST_(RuntimeServiceAdapter, StreamPodSandboxMetrics)
CR_STREAM_LIST_(ImageServiceAdapter, StreamImages)
#undef CR_STREAM_LIST_

grpc::Status ImageServiceAdapter::ListImages(grpc::ServerContext* /*ctx*/,
                                             const v1::ListImagesRequest* req,
                                             v1::ListImagesResponse* resp) {
  return Serve(calls_, "ListImages", *req, [&] { return service_.ListImages(*req, *resp); });
}

grpc::Status ImageServiceAdapter::ImageStatus(grpc::ServerContext* /*ctx*/,
                                              const v1::ImageStatusRequest* req,
                                              v1::ImageStatusResponse* resp) {
  return Serve(calls_, "ImageStatus", *req, [&] { return service_.ImageStatus(*req, *resp); });
}

grpc::Status ImageServiceAdapter::PullImage(grpc::ServerContext* ctx,
                                            const v1::PullImageRequest* req,
                                            v1::PullImageResponse* resp) {
  return Serve(calls_, "PullImage", *req,
               [&] { return service_.PullImage(*req, *resp, DeadlineOf(*ctx)); });
}

grpc::Status ImageServiceAdapter::RemoveImage(grpc::ServerContext* /*ctx*/,
                                              const v1::RemoveImageRequest* req,
                                              v1::RemoveImageResponse* resp) {
  return Serve(calls_, "RemoveImage", *req, [&] { return service_.RemoveImage(*req, *resp); });
}

grpc::Status ImageServiceAdapter::ImageFsInfo(grpc::ServerContext* /*ctx*/,
                                              const v1::ImageFsInfoRequest* req,
                                              v1::ImageFsInfoResponse* resp) {
  return Serve(calls_, "ImageFsInfo", *req, [&] { return service_.ImageFsInfo(*req, *resp); });
}

}  // namespace cricket::cri
