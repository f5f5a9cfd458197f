#include "cri/grpc_adapter.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <exception>
#include <string>

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

// validate → call → log once → convert. `call` returns Result<void>.
template <typename Call>
grpc::Status Serve(std::string_view rpc, const google::protobuf::Message& req, Call&& call) {
  std::string pod = StringField(req, "pod_sandbox_id");
  std::string ctr = StringField(req, "container_id");
  log::Fields fields{.rpc = rpc, .pod = pod, .ctr = ctr};
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

}  // namespace

grpc::Status ToGrpc(const Error& error) {
  return {static_cast<grpc::StatusCode>(error.code()), error.message()};
}

grpc::Status Unimplemented(std::string_view rpc) {
  log::Debug({.rpc = rpc}, "not implemented");
  return {grpc::StatusCode::UNIMPLEMENTED,
          std::string(rpc) + " is not implemented by cricket yet"};
}

grpc::Status RuntimeServiceAdapter::Version(grpc::ServerContext* /*ctx*/,
                                            const v1::VersionRequest* req,
                                            v1::VersionResponse* resp) {
  return Serve("Version", *req, [&] { return service_.Version(*req, *resp); });
}

grpc::Status RuntimeServiceAdapter::Status(grpc::ServerContext* /*ctx*/,
                                           const v1::StatusRequest* req,
                                           v1::StatusResponse* resp) {
  return Serve("Status", *req, [&] { return service_.Status(*req, *resp); });
}

grpc::Status RuntimeServiceAdapter::RuntimeConfig(grpc::ServerContext* /*ctx*/,
                                                  const v1::RuntimeConfigRequest* req,
                                                  v1::RuntimeConfigResponse* resp) {
  return Serve("RuntimeConfig", *req, [&] { return service_.RuntimeConfig(*req, *resp); });
}

}  // namespace cricket::cri
