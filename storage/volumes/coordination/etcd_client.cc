#include "storage/volumes/coordination/etcd_client.h"

#include <utility>

#include "storage/volumes/coordination/etcd_endpoints.h"

namespace cricket::storage {

Result<std::unique_ptr<EtcdClient>> EtcdClient::Create(const std::vector<std::string>& endpoints,
                                                       std::chrono::milliseconds timeout) {
  CR_ASSIGN_OR_RETURN(std::string target, EtcdChannelTarget(endpoints));
  grpc::ChannelArguments args;
  // gRPC's default reconnect backoff grows to two minutes; an etcd that comes back must be
  // usable within a lease TTL, so retry the connection at least every second.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  std::string names;
  for (const std::string& endpoint : endpoints) {
    names += (names.empty() ? "" : ",") + endpoint;
  }
  return std::unique_ptr<EtcdClient>(new EtcdClient(std::move(names), timeout, channel));
}

EtcdClient::EtcdClient(std::string endpoints, std::chrono::milliseconds timeout,
                       const std::shared_ptr<grpc::Channel>& channel)
    : endpoints_(std::move(endpoints)),
      timeout_(timeout),
      kv_(etcdserverpb::KV::NewStub(channel)),
      lease_(etcdserverpb::Lease::NewStub(channel)) {}

void EtcdClient::SetDeadline(grpc::ClientContext& context) const {
  context.set_deadline(std::chrono::system_clock::now() + timeout_);
}

Error EtcdClient::ToError(const grpc::Status& status, const char* rpc) const {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return {Code::kUnavailable,
              "etcd at " + endpoints_ + " is unreachable (" + rpc + "): " + status.error_message()};
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return {Code::kUnavailable, "etcd at " + endpoints_ + " did not answer " + rpc + " within " +
                                      std::to_string(timeout_.count()) + " ms"};
    default:
      return {static_cast<Code>(status.error_code()),
              std::string("etcd ") + rpc + ": " + status.error_message()};
  }
}

Result<etcdserverpb::RangeResponse> EtcdClient::Range(const etcdserverpb::RangeRequest& request) {
  grpc::ClientContext context;
  SetDeadline(context);
  etcdserverpb::RangeResponse response;
  grpc::Status status = kv_->Range(&context, request, &response);
  if (!status.ok()) {
    return ToError(status, "Range");
  }
  return response;
}

Result<etcdserverpb::TxnResponse> EtcdClient::Txn(const etcdserverpb::TxnRequest& request) {
  grpc::ClientContext context;
  SetDeadline(context);
  etcdserverpb::TxnResponse response;
  grpc::Status status = kv_->Txn(&context, request, &response);
  if (!status.ok()) {
    return ToError(status, "Txn");
  }
  return response;
}

Result<etcdserverpb::LeaseGrantResponse> EtcdClient::LeaseGrant(int64_t ttl_seconds) {
  grpc::ClientContext context;
  SetDeadline(context);
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  etcdserverpb::LeaseGrantResponse response;
  grpc::Status status = lease_->LeaseGrant(&context, request, &response);
  if (!status.ok()) {
    return ToError(status, "LeaseGrant");
  }
  if (!response.error().empty()) {
    return Error(Code::kUnavailable, "etcd LeaseGrant: " + response.error());
  }
  return response;
}

Result<void> EtcdClient::LeaseRevoke(int64_t lease_id) {
  grpc::ClientContext context;
  SetDeadline(context);
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease_id);
  etcdserverpb::LeaseRevokeResponse response;
  grpc::Status status = lease_->LeaseRevoke(&context, request, &response);
  if (!status.ok()) {
    return ToError(status, "LeaseRevoke");
  }
  return Ok();
}

Result<int64_t> EtcdClient::LeaseKeepAliveOnce(int64_t lease_id) {
  grpc::ClientContext context;
  SetDeadline(context);
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::LeaseKeepAliveRequest,
                                           etcdserverpb::LeaseKeepAliveResponse>>
      stream = lease_->LeaseKeepAlive(&context);
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(lease_id);
  etcdserverpb::LeaseKeepAliveResponse response;
  // Read the answer before half-closing: etcd ends the stream on our end-of-writes.
  bool answered = stream->Write(request) && stream->Read(&response);
  stream->WritesDone();
  grpc::Status status = stream->Finish();
  if (!answered) {
    if (!status.ok()) {
      return ToError(status, "LeaseKeepAlive");
    }
    return Error(Code::kUnavailable,
                 "etcd at " + endpoints_ + " closed the keep-alive stream without an answer");
  }
  return response.ttl();
}

}  // namespace cricket::storage
