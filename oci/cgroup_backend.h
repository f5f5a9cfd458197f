#pragma once

// CgroupBackend: what the v1 and v2 CgroupManagers share: Create's "make the directories, then
// write the limits, or remove what was made" and Update's "everything but the device rules".
// A backend supplies only how to make its directories and how to write the limits.

#include <string>
#include <vector>

#include "common/result.h"
#include "common/syscalls.h"
#include "oci/cgroup_manager.h"
#include "oci/spec.h"

namespace cricket::oci {

class CgroupBackend : public CgroupManager {
 public:
  Result<void> Create(const Resources* resources) final;
  Result<void> Update(const Resources& resources) final;
  // Writes the freezer state, then polls Frozen() until it says so, for up to kFreezeWait.
  Result<void> Freeze(bool frozen) final;

 protected:
  explicit CgroupBackend(Syscalls& sys) : sys_(sys) {}

  // mkdir of every missing directory of the container's cgroup (and any set-up a new directory
  // needs), appending each one made to `created`, outermost first, so a failure can undo it.
  virtual Result<void> MakeDirs(std::vector<std::string>& created) = 0;
  // Writes the limits into the existing directories.
  virtual Result<void> Apply(const Resources& resources) = 0;
  // Asks the kernel to freeze or thaw; it may take a moment (v1 FREEZING, v2 cgroup.events).
  virtual Result<void> WriteFreezeState(bool frozen) = 0;

  Syscalls& sys_;
};

}  // namespace cricket::oci
