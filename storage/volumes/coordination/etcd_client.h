#pragma once

// EtcdClient: the few etcd v3 calls the etcd coordinator makes, each with a deadline, each
// returning Result instead of grpc::Status. Internal to storage/volumes/coordination.
// Thread-safe (gRPC stubs are).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "common/result.h"
#include "etcdserverpb/rpc.grpc.pb.h"

namespace cricket::storage {

class EtcdClient {
 public:
  // `endpoints` are "http://host:port" URLs (see CoordinatorOptions::etcd_endpoints).
  // kInvalidArgument naming a malformed endpoint. Does not dial.
  static Result<std::unique_ptr<EtcdClient>> Create(const std::vector<std::string>& endpoints,
                                                    std::chrono::milliseconds timeout);

  // Errors: kUnavailable naming the endpoints when etcd cannot be reached or does not answer
  // within the timeout; otherwise etcd's status code with its message.
  Result<etcdserverpb::RangeResponse> Range(const etcdserverpb::RangeRequest& request);
  Result<etcdserverpb::TxnResponse> Txn(const etcdserverpb::TxnRequest& request);
  Result<etcdserverpb::LeaseGrantResponse> LeaseGrant(int64_t ttl_seconds);
  // kNotFound when etcd does not know the lease (expired or revoked).
  Result<void> LeaseRevoke(int64_t lease_id);
  // One renewal over a short-lived LeaseKeepAlive stream: the lease's new TTL in seconds,
  // 0 or less when etcd does not know the lease any more.
  Result<int64_t> LeaseKeepAliveOnce(int64_t lease_id);

  const std::string& endpoints() const { return endpoints_; }

 private:
  EtcdClient(std::string endpoints, std::chrono::milliseconds timeout,
             const std::shared_ptr<grpc::Channel>& channel);
  void SetDeadline(grpc::ClientContext& context) const;
  Error ToError(const grpc::Status& status, const char* rpc) const;

  std::string endpoints_;  // as configured, comma-separated, for messages
  std::chrono::milliseconds timeout_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
};

}  // namespace cricket::storage
