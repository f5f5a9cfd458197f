#pragma once

// ClaimDir: exclusive, persistent claims on names (an IP address, a host port), one file per
// claim under a directory holding the owner's id. A claim is made with link(2), which fails
// atomically when the name is taken, so two claimants — threads or processes, before or after
// a crash — never both win. Lock() serialises claimants that read-then-claim (round-robin
// cursors, owner look-ups).

#include <chrono>
#include <map>
#include <string>

#include "common/lock_file.h"
#include "common/result.h"

namespace cricket::network {

class ClaimDir {
 public:
  // Creates `dir` if needed.
  static Result<ClaimDir> Open(std::string dir);

  // How long Lock waits for another holder.
  static constexpr std::chrono::milliseconds kLockWait{30000};

  // An exclusive lock on the directory, waiting up to kLockWait for another holder
  // (kFailedPrecondition naming the holder after that). Also sweeps temp files of claimants
  // that died mid-claim.
  Result<LockFile> Lock() const;
  // True when claimed now for `owner`; false when someone already holds `name`.
  Result<bool> TryClaim(const std::string& name, const std::string& owner) const;
  // Drops every claim of `owner`; unknown owner is OK.
  Result<void> ReleaseOwner(const std::string& owner) const;
  // Every claim: name -> owner. Names starting with '.' or equal to "lock" are not claims.
  Result<std::map<std::string, std::string>> List() const;

  const std::string& dir() const { return dir_; }

 private:
  explicit ClaimDir(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace cricket::network
