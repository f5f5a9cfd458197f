#include "storage/volumes/coordination/etcd_coordinator.h"

#include <map>
#include <utility>

#include "common/cleanup.h"
#include "storage/volumes/coordination/etcd_client.h"
#include "storage/volumes/coordination/head_record.h"

namespace cricket::storage {
namespace {

using etcdserverpb::Compare;

void AddCompare(etcdserverpb::TxnRequest& txn, const std::string& key,
                Compare::CompareTarget target, int64_t number, const std::string& value = "") {
  Compare* cmp = txn.add_compare();
  cmp->set_key(key);
  cmp->set_result(Compare::EQUAL);
  cmp->set_target(target);
  switch (target) {
    case Compare::CREATE:
      cmp->set_create_revision(number);
      break;
    case Compare::LEASE:
      cmp->set_lease(number);
      break;
    default:
      cmp->set_value(value);
      break;
  }
}

// The first key-value of the Range response at `index` of a Txn, or nullptr.
const mvccpb::KeyValue* RangeResult(const etcdserverpb::TxnResponse& response, int index) {
  if (index >= response.responses_size() || !response.responses(index).has_response_range() ||
      response.responses(index).response_range().kvs_size() == 0) {
    return nullptr;
  }
  return &response.responses(index).response_range().kvs(0);
}

std::string DescribeOwner(const mvccpb::KeyValue* owner) {
  if (owner == nullptr) {
    return "the volume has no owner";
  }
  return "the owner is node " + owner->value() + " with token " +
         std::to_string(owner->create_revision());
}

class EtcdCoordinator final : public VolumeCoordinator {
 public:
  EtcdCoordinator(std::unique_ptr<EtcdClient> client, std::string prefix, std::chrono::seconds ttl)
      : client_(std::move(client)), prefix_(std::move(prefix)), ttl_(ttl) {}

  Result<VolumeLease> Acquire(const std::string& volume, const std::string& node) override;
  Result<void> KeepAlive(const VolumeLease& lease) override;
  Result<void> Release(const VolumeLease& lease) override;
  Result<std::optional<VolumeHead>> ReadHead(const std::string& volume) override;
  Result<void> PublishHead(const VolumeLease& lease, const VolumeHead& head) override;
  Result<std::vector<VolumeOwner>> List() override;

 private:
  std::string OwnerKey(const std::string& volume) const { return prefix_ + volume + "/owner"; }
  std::string HeadKey(const std::string& volume) const { return prefix_ + volume + "/head"; }
  // Adds the compares "the owner key is still `lease`'s": same creation (the fencing token),
  // same node, same etcd lease.
  void AddOwnerCompares(etcdserverpb::TxnRequest& txn, const VolumeLease& lease) const;
  static Result<void> CheckLease(const VolumeLease& lease);

  const std::unique_ptr<EtcdClient> client_;
  const std::string prefix_;
  const std::chrono::seconds ttl_;
};

Result<void> EtcdCoordinator::CheckLease(const VolumeLease& lease) {
  CR_RETURN_IF_ERROR(ValidateVolumeName(lease.volume));
  if (lease.lease_id == 0 || lease.token <= 0) {
    return Error(Code::kInvalidArgument,
                 "lease on volume " + lease.volume + " has no etcd lease id or token");
  }
  return Ok();
}

void EtcdCoordinator::AddOwnerCompares(etcdserverpb::TxnRequest& txn,
                                       const VolumeLease& lease) const {
  std::string key = OwnerKey(lease.volume);
  AddCompare(txn, key, Compare::CREATE, lease.token);
  AddCompare(txn, key, Compare::VALUE, 0, lease.node);
  AddCompare(txn, key, Compare::LEASE, lease.lease_id);
}

Result<VolumeLease> EtcdCoordinator::Acquire(const std::string& volume, const std::string& node) {
  CR_RETURN_IF_ERROR(ValidateVolumeName(volume));
  CR_RETURN_IF_ERROR(ValidateNodeName(node));
  CR_ASSIGN_OR_RETURN(etcdserverpb::LeaseGrantResponse grant, client_->LeaseGrant(ttl_.count()));
  // Every failure below gives the lease back; if that fails too, it expires after the TTL
  // and takes an owner key we may have written with it.
  Cleanup revoke([&] { (void)client_->LeaseRevoke(grant.id()); });

  // Create the owner key only if absent (a missing key compares as create_revision 0), and
  // read it back in the same transaction either way.
  std::string key = OwnerKey(volume);
  etcdserverpb::TxnRequest txn;
  AddCompare(txn, key, Compare::CREATE, 0);
  etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(node);
  put->set_lease(grant.id());
  txn.add_success()->mutable_request_range()->set_key(key);
  txn.add_failure()->mutable_request_range()->set_key(key);
  CR_ASSIGN_OR_RETURN(etcdserverpb::TxnResponse response, client_->Txn(txn));

  if (!response.succeeded()) {
    const mvccpb::KeyValue* owner = RangeResult(response, 0);
    return Error(Code::kUnavailable,
                 "volume " + volume + " is owned by node " +
                     (owner != nullptr ? owner->value() : std::string("(released meanwhile)")));
  }
  const mvccpb::KeyValue* created = RangeResult(response, 1);
  if (created == nullptr || created->lease() != grant.id()) {
    return Error(Code::kInternal, "etcd Txn for " + key + " succeeded but did not return the key");
  }
  revoke.Dismiss();
  return VolumeLease{.volume = volume,
                     .node = node,
                     .token = created->create_revision(),
                     .lease_id = grant.id(),
                     .ttl = std::chrono::seconds(grant.ttl())};
}

Result<void> EtcdCoordinator::KeepAlive(const VolumeLease& lease) {
  CR_RETURN_IF_ERROR(CheckLease(lease));
  const std::string what =
      "lease on volume " + lease.volume + " (token " + std::to_string(lease.token) + ")";
  CR_ASSIGN_OR_RETURN(int64_t ttl, client_->LeaseKeepAliveOnce(lease.lease_id));
  if (ttl <= 0) {
    return Error(Code::kAborted, what + " expired");
  }
  // The etcd lease lives; check it still carries this ownership (the key could have been
  // deleted by an operator's forced release, or the lease id could belong to another volume).
  etcdserverpb::RangeRequest range;
  range.set_key(OwnerKey(lease.volume));
  CR_ASSIGN_OR_RETURN(etcdserverpb::RangeResponse owner, client_->Range(range));
  const mvccpb::KeyValue* kv = owner.kvs_size() > 0 ? &owner.kvs(0) : nullptr;
  if (kv == nullptr || kv->create_revision() != lease.token || kv->value() != lease.node ||
      kv->lease() != lease.lease_id) {
    return Error(Code::kAborted, what + " is lost: " + DescribeOwner(kv));
  }
  return Ok();
}

Result<void> EtcdCoordinator::Release(const VolumeLease& lease) {
  if (lease.lease_id == 0) {
    return Ok();
  }
  // Revoking the lease deletes the owner key attached to it, in one etcd revision.
  Result<void> revoked = client_->LeaseRevoke(lease.lease_id);
  if (!revoked.ok() && revoked.error().code() != Code::kNotFound) {
    return std::move(revoked).error().Wrap("release volume " + lease.volume);
  }
  return Ok();
}

Result<std::optional<VolumeHead>> EtcdCoordinator::ReadHead(const std::string& volume) {
  CR_RETURN_IF_ERROR(ValidateVolumeName(volume));
  etcdserverpb::RangeRequest range;
  range.set_key(HeadKey(volume));
  CR_ASSIGN_OR_RETURN(etcdserverpb::RangeResponse response, client_->Range(range));
  if (response.kvs_size() == 0) {
    return std::optional<VolumeHead>();
  }
  CR_ASSIGN_OR_RETURN(VolumeHead head, DecodeHead(response.kvs(0).value(), HeadKey(volume)));
  return std::optional<VolumeHead>(std::move(head));
}

Result<void> EtcdCoordinator::PublishHead(const VolumeLease& lease, const VolumeHead& head) {
  CR_RETURN_IF_ERROR(CheckLease(lease));
  etcdserverpb::TxnRequest txn;
  AddOwnerCompares(txn, lease);
  etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(HeadKey(lease.volume));
  put->set_value(EncodeHead({.manifest_digest = head.manifest_digest, .token = lease.token}));
  txn.add_failure()->mutable_request_range()->set_key(OwnerKey(lease.volume));
  CR_ASSIGN_OR_RETURN(etcdserverpb::TxnResponse response, client_->Txn(txn));
  if (!response.succeeded()) {
    return Error(Code::kAborted, "publish head of volume " + lease.volume + ": fenced: token " +
                                     std::to_string(lease.token) + " of node " + lease.node +
                                     " is stale, " + DescribeOwner(RangeResult(response, 0)));
  }
  return Ok();
}

Result<std::vector<VolumeOwner>> EtcdCoordinator::List() {
  etcdserverpb::RangeRequest range;
  range.set_key(prefix_);
  std::string end = prefix_;
  end.back() = static_cast<char>(end.back() + 1);  // the prefix's range end, as etcdctl --prefix
  range.set_range_end(end);
  CR_ASSIGN_OR_RETURN(etcdserverpb::RangeResponse response, client_->Range(range));
  std::map<std::string, VolumeOwner> rows;
  for (const mvccpb::KeyValue& kv : response.kvs()) {
    std::string rest = kv.key().substr(prefix_.size());
    size_t slash = rest.find('/');
    if (slash == std::string::npos) {
      continue;
    }
    std::string volume = rest.substr(0, slash);
    std::string field = rest.substr(slash + 1);
    VolumeOwner& row = rows[volume];
    row.volume = volume;
    if (field == "owner") {
      row.node = kv.value();
      row.token = kv.create_revision();
    } else if (field == "head") {
      CR_ASSIGN_OR_RETURN(row.head, DecodeHead(kv.value(), kv.key()));
    }
  }
  std::vector<VolumeOwner> owners;
  for (auto& [volume, row] : rows) {
    if (!row.node.empty() || row.head.has_value()) {
      owners.push_back(std::move(row));
    }
  }
  return owners;
}

}  // namespace

Result<std::unique_ptr<VolumeCoordinator>> MakeEtcdCoordinator(const CoordinatorOptions& options) {
  if (options.lease_ttl < std::chrono::seconds(1)) {
    return Error(Code::kInvalidArgument, "volume lease_ttl must be at least 1 s");
  }
  if (options.request_timeout <= std::chrono::milliseconds(0)) {
    return Error(Code::kInvalidArgument, "etcd request_timeout must be positive");
  }
  if (options.etcd_prefix.empty() || options.etcd_prefix.back() != '/') {
    return Error(Code::kInvalidArgument,
                 "etcd_prefix \"" + options.etcd_prefix + "\" must end with '/'");
  }
  CR_ASSIGN_OR_RETURN(std::unique_ptr<EtcdClient> client,
                      EtcdClient::Create(options.etcd_endpoints, options.request_timeout));
  return std::unique_ptr<VolumeCoordinator>(
      std::make_unique<EtcdCoordinator>(std::move(client), options.etcd_prefix, options.lease_ttl));
}

}  // namespace cricket::storage
