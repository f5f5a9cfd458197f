#pragma once

// The persisted record of one container under the runtime's root directory
// (<root>/<id>/state.json), and the OCI state document `cricket-runtime state` prints.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace cricket::oci {

// kPaused is runc's addition (its cgroup is frozen); the rest are the runtime-spec's.
enum class Status { kCreating, kCreated, kRunning, kStopped, kPaused };

// "creating", "created", "running", "stopped" as the runtime-spec spells them; "paused".
const char* StatusName(Status status);

struct ContainerState {
  std::string oci_version;
  std::string id;
  Status status = Status::kCreating;
  pid_t pid = 0;
  // Start time of `pid` in clock ticks since boot (/proc/<pid>/stat field 22): tells our process
  // from a later one that reuses the pid.
  uint64_t pid_start_time = 0;
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339
  std::string cgroup_path;
  bool oom_killed = false;
  std::map<std::string, std::string> annotations;
};

// The OCI state JSON (ociVersion, id, status, pid, bundle, annotations) plus Cricket's fields.
std::string StateToJson(const ContainerState& state);
// kInvalidArgument naming the field for a malformed document.
Result<ContainerState> StateFromJson(std::string_view text);

// Reads and writes <root>/<id>/state.json. Writes are atomic (write-temp + rename).
class StateStore {
 public:
  explicit StateStore(std::string root_dir) : root_dir_(std::move(root_dir)) {}

  const std::string& root_dir() const { return root_dir_; }
  std::string Dir(const std::string& id) const { return root_dir_ + "/" + id; }

  // Creates <root>/<id>. kAlreadyExists when a container of that id exists.
  Result<void> Reserve(const std::string& id);
  Result<void> Save(const ContainerState& state);
  // kNotFound when no container of that id exists.
  Result<ContainerState> Load(const std::string& id) const;
  // Removes <root>/<id> and everything below it. Unknown ids are fine.
  Result<void> Remove(const std::string& id);
  // Ids of every container with a state directory, sorted.
  Result<std::vector<std::string>> List() const;

 private:
  std::string root_dir_;
};

// kInvalidArgument unless id is non-empty and made of [A-Za-z0-9_.-] (it names a directory).
Result<void> ValidateContainerId(const std::string& id);

}  // namespace cricket::oci
