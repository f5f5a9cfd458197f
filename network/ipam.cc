#include "network/ipam.h"

#include <set>

#include "common/files.h"

namespace cricket::network {
namespace {

// Stored in the claim dir under a name no claim can have.
constexpr std::string_view kCursorFile = ".last_reserved";

}  // namespace

Result<Ipam> Ipam::Open(std::string dir, Ipv4Cidr range) {
  CR_ASSIGN_OR_RETURN(ClaimDir claims, ClaimDir::Open(std::move(dir)));
  return Ipam(std::move(claims), range);
}

Result<Ipv4> Ipam::Allocate(const std::string& owner, const Ipv4Cidr& range) {
  CR_ASSIGN_OR_RETURN(LockFile lock, claims_.Lock());
  // All leases: an address of an older range inside `range` is taken all the same.
  CR_ASSIGN_OR_RETURN(auto leases, AllLeases());
  for (const auto& [ip, holder] : leases) {
    if (holder == owner && range.Contains(ip)) {
      return ip;
    }
  }
  const uint32_t first = range.gateway().value + 1;
  const uint32_t last = range.broadcast().value - 1;
  const std::string cursor_path = claims_.dir() + "/" + std::string(kCursorFile);
  // Round-robin from the last address handed out, so a released address is not reused at once
  // (a peer may still hold it in its ARP cache or conntrack).
  uint32_t start = first;
  if (auto cursor = ReadFile(cursor_path); cursor.ok()) {
    auto prev = Ipv4::Parse(*cursor);
    if (prev.ok() && prev->value >= first && prev->value < last) {
      start = prev->value + 1;
    }
  }
  const uint64_t size = first <= last ? uint64_t{last} - first + 1 : 0;
  for (uint64_t i = 0; i < size; ++i) {
    Ipv4 candidate{static_cast<uint32_t>(first + (start - first + i) % size)};
    if (leases.contains(candidate)) {
      continue;
    }
    CR_ASSIGN_OR_RETURN(bool claimed, claims_.TryClaim(candidate.ToString(), owner));
    if (claimed) {
      // Only a hint where to look next: losing it to a power cut costs nothing.
      CR_RETURN_IF_ERROR(
          WriteFileAtomic(cursor_path, candidate.ToString(), 0600, Durability::kProcessCrash));
      return candidate;
    }
  }
  return Error(Code::kResourceExhausted,
               "pod range " + range.ToString() + " is full: no address left for " + owner);
}

Result<void> Ipam::Release(const std::string& owner) {
  CR_ASSIGN_OR_RETURN(LockFile lock, claims_.Lock());
  return claims_.ReleaseOwner(owner);
}

Result<void> Ipam::ReleaseAll() {
  CR_ASSIGN_OR_RETURN(LockFile lock, claims_.Lock());
  CR_ASSIGN_OR_RETURN(auto claims, claims_.List());
  std::set<std::string> owners;
  for (const auto& [name, owner] : claims) {
    owners.insert(owner);
  }
  for (const auto& owner : owners) {
    CR_RETURN_IF_ERROR(claims_.ReleaseOwner(owner));
  }
  return Ok();
}

Result<std::map<Ipv4, std::string>> Ipam::Leases() const {
  CR_ASSIGN_OR_RETURN(auto leases, AllLeases());
  std::erase_if(leases, [&](const auto& lease) { return !range_.Contains(lease.first); });
  return leases;
}

Result<std::map<Ipv4, std::string>> Ipam::AllLeases() const {
  CR_ASSIGN_OR_RETURN(auto claims, claims_.List());
  std::map<Ipv4, std::string> out;
  for (auto& [name, owner] : claims) {
    if (auto ip = Ipv4::Parse(name); ip.ok()) {
      out.emplace(*ip, std::move(owner));
    }
  }
  return out;
}

}  // namespace cricket::network
