#include "network/ipam.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "common/files.h"
#include "common/lock_file.h"
#include "common/unique_fd.h"

namespace cricket::network {
namespace {

constexpr std::string_view kTempPrefix = ".tmp-";
constexpr std::string_view kCursorFile = "last_reserved";

// Lock files are taken with LockFile, which refuses rather than waits; allocations are short,
// so retry briefly.
Result<LockFile> LockDir(const std::string& dir) {
  for (int attempt = 0;; ++attempt) {
    auto lock = LockFile::Acquire(dir + "/lock");
    if (lock.ok() || lock.error().code() != Code::kFailedPrecondition || attempt == 2000) {
      return lock;
    }
    ::usleep(1000);
  }
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

}  // namespace

Result<Ipam> Ipam::Open(std::string dir, Ipv4Cidr range) {
  CR_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  return Ipam(std::move(dir), range);
}

void Ipam::RemoveTempFiles() const {
  // Called under the lock: a temp file present now belongs to an allocator that died.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (entry.path().filename().string().starts_with(kTempPrefix)) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

Result<bool> Ipam::TryClaim(Ipv4 ip, const std::string& owner) {
  // Write the owner into a private file first, then link it into place: the lease appears
  // atomically and complete, or not at all.
  std::string tmp = dir_ + "/" + std::string(kTempPrefix) + std::to_string(::getpid()) + "-" +
                    ip.ToString();
  CR_RETURN_IF_ERROR(WriteFileAtomic(tmp, owner + "\n", 0600));
  std::string lease = dir_ + "/" + ip.ToString();
  int rc = ::link(tmp.c_str(), lease.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (rc == 0) {
    return true;
  }
  if (err == EEXIST) {
    return false;
  }
  return Error::FromErrno(err, "create lease " + lease);
}

Result<Ipv4> Ipam::Allocate(const std::string& owner) {
  CR_ASSIGN_OR_RETURN(LockFile lock, LockDir(dir_));
  RemoveTempFiles();
  CR_ASSIGN_OR_RETURN(auto leases, Leases());
  for (const auto& [ip, holder] : leases) {
    if (holder == owner) {
      return ip;
    }
  }
  // Round-robin from the last address handed out, so a released address is not reused at once
  // (a peer may still hold it in its ARP cache or conntrack).
  const uint32_t first = range_.gateway().value + 1;
  const uint32_t last = range_.broadcast().value - 1;
  uint32_t start = first;
  if (auto cursor = ReadFile(dir_ + "/" + std::string(kCursorFile)); cursor.ok()) {
    if (auto prev = Ipv4::Parse(Trim(*cursor)); prev.ok() && prev->value >= first &&
                                                 prev->value < last) {
      start = prev->value + 1;
    }
  }
  if (first > last) {
    return Error(Code::kResourceExhausted, "pod range " + range_.ToString() + " has no free address");
  }
  const uint64_t size = uint64_t{last} - first + 1;
  for (uint64_t i = 0; i < size; ++i) {
    Ipv4 candidate{static_cast<uint32_t>(first + (start - first + i) % size)};
    if (leases.contains(candidate)) {
      continue;
    }
    CR_ASSIGN_OR_RETURN(bool claimed, TryClaim(candidate, owner));
    if (claimed) {
      CR_RETURN_IF_ERROR(
          WriteFileAtomic(dir_ + "/" + std::string(kCursorFile), candidate.ToString(), 0600));
      return candidate;
    }
  }
  return Error(Code::kResourceExhausted,
               "pod range " + range_.ToString() + " is full: no address left for " + owner);
}

Result<void> Ipam::Release(const std::string& owner) {
  CR_ASSIGN_OR_RETURN(LockFile lock, LockDir(dir_));
  CR_ASSIGN_OR_RETURN(auto leases, Leases());
  for (const auto& [ip, holder] : leases) {
    if (holder == owner) {
      std::string lease = dir_ + "/" + ip.ToString();
      if (::unlink(lease.c_str()) < 0 && errno != ENOENT) {
        return Error::FromErrno(errno, "remove lease " + lease);
      }
    }
  }
  return Ok();
}

Result<std::map<Ipv4, std::string>> Ipam::Leases() const {
  std::map<Ipv4, std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    auto ip = Ipv4::Parse(entry.path().filename().string());
    if (!ip.ok() || !range_.Contains(*ip)) {
      continue;  // lock, cursor, temp files
    }
    auto owner = ReadFile(entry.path().string());
    if (owner.ok()) {
      out.emplace(*ip, Trim(std::move(owner).value()));
    }
  }
  if (ec) {
    return Error::FromErrno(ec.value(), "list leases in " + dir_);
  }
  return out;
}

}  // namespace cricket::network
