#include "network/claims.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>

#include "common/files.h"
#include "common/text.h"

namespace cricket::network {
namespace {

constexpr std::string_view kTempPrefix = ".tmp-";
constexpr std::string_view kLockName = "lock";

bool IsClaimName(const std::string& name) { return !name.starts_with('.') && name != kLockName; }

}  // namespace

Result<ClaimDir> ClaimDir::Open(std::string dir) {
  CR_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  return ClaimDir(std::move(dir));
}

Result<LockFile> ClaimDir::Lock() const {
  // LockFile refuses rather than waits; claims are short, so retry until a deadline. The budget
  // is time, not a number of tries: 50 RunPodSandbox calls at once on a node whose CPUs are
  // busy queued here for over 2 s (the old budget of 2000 tries), and pods failed.
  const auto deadline = std::chrono::steady_clock::now() + kLockWait;
  for (;;) {
    auto lock = LockFile::Acquire(dir_ + "/" + std::string(kLockName));
    if (lock.ok()) {
      // Under the lock, a temp file present now belongs to a claimant that died.
      std::error_code ec;
      for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
        if (entry.path().filename().string().starts_with(kTempPrefix)) {
          std::filesystem::remove(entry.path(), ec);
        }
      }
      return lock;
    }
    if (lock.error().code() != Code::kFailedPrecondition) {
      return lock;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error(
          Code::kFailedPrecondition,
          lock.error().message() + "; gave up after " +
              std::to_string(std::chrono::duration_cast<std::chrono::seconds>(kLockWait).count()) +
              " s");
    }
    ::usleep(1000);
  }
}

Result<bool> ClaimDir::TryClaim(const std::string& name, const std::string& owner) const {
  // The owner goes into a private file first, which is then linked into place: the claim
  // appears atomically and complete, or not at all.
  std::string tmp = dir_ + "/" + std::string(kTempPrefix) + std::to_string(::getpid()) + "-" + name;
  // No fsync: after a power cut no pod network survives, and the start-up reconcile drops the
  // claims of pods that are gone; a process crash cannot tear the file (the link is atomic).
  CR_RETURN_IF_ERROR(WriteFileAtomic(tmp, owner + "\n", 0600, Durability::kProcessCrash));
  std::string claim = dir_ + "/" + name;
  int rc = ::link(tmp.c_str(), claim.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (rc == 0) {
    return true;
  }
  if (err == EEXIST) {
    return false;
  }
  return Error::FromErrno(err, "claim " + claim);
}

Result<void> ClaimDir::ReleaseOwner(const std::string& owner) const {
  CR_ASSIGN_OR_RETURN(auto claims, List());
  for (const auto& [name, holder] : claims) {
    if (holder != owner) {
      continue;
    }
    std::string claim = dir_ + "/" + name;
    if (::unlink(claim.c_str()) < 0 && errno != ENOENT) {
      return Error::FromErrno(errno, "release " + claim);
    }
  }
  return Ok();
}

Result<std::map<std::string, std::string>> ClaimDir::List() const {
  std::map<std::string, std::string> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    if (!IsClaimName(name)) {
      continue;
    }
    auto owner = ReadFile(entry.path().string());
    if (owner.ok()) {
      out.emplace(std::move(name), std::string(TrimEnd(*owner)));
    }
  }
  if (ec) {
    return Error::FromErrno(ec.value(), "list " + dir_);
  }
  return out;
}

}  // namespace cricket::network
