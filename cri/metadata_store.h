#pragma once

// MetadataStore: the persisted record of every pod sandbox and container cricketd manages, in
// SQLite under --root (WAL, synchronous=FULL). A crash at any instant leaves either the state
// before or after a committed change. Thread-safe: one connection behind a mutex.
//
// Records hold what the CRI layer must know after a restart. The serialized CRI config is kept
// verbatim (`config`); `runtime` is a JSON document owned by the code that creates the object
// (netns path, IPs, shim socket, ...), so adding such a detail needs no migration.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/sqlite.h"

namespace cricket::cri {

// Numbers as in CRI's PodSandboxState.
enum class SandboxState : int { kReady = 0, kNotReady = 1 };
// Numbers as in CRI's ContainerState.
enum class ContainerState : int { kCreated = 0, kRunning = 1, kExited = 2, kUnknown = 3 };

struct SandboxRecord {
  std::string id;
  // Unique among live sandboxes: "<name>_<namespace>_<uid>_<attempt>", as kubelet reserves it.
  std::string name;
  SandboxState state = SandboxState::kNotReady;
  int64_t created_at_ns = 0;
  std::string config;   // serialized runtime.v1.PodSandboxConfig
  std::string runtime;  // JSON
};

struct ContainerRecord {
  std::string id;
  std::string sandbox_id;
  // Unique among live containers: "<name>_<sandbox name>_<attempt>".
  std::string name;
  ContainerState state = ContainerState::kCreated;
  int64_t created_at_ns = 0;
  int64_t started_at_ns = 0;
  int64_t finished_at_ns = 0;
  int32_t exit_code = 0;
  std::string reason;
  std::string message;
  std::string config;   // serialized runtime.v1.ContainerConfig
  std::string runtime;  // JSON
};

class MetadataStore {
 public:
  // The schema version this build writes. Older stores are migrated on Open.
  static constexpr int kSchemaVersion = 1;

  // Opens or creates `<dir>/metadata.db`. kFailedPrecondition when the store was written by a
  // newer Cricket (higher schema version). A damaged file (not SQLite, truncated, failing
  // quick_check, an unknown schema) does not fail Open: it is moved aside (common/sqlite.h
  // OpenOrSetAside) and an empty store opened; set_aside_path() then says where it went, and
  // the caller rebuilds what it can (cri/metadata_recovery.h).
  static Result<std::unique_ptr<MetadataStore>> Open(const std::string& dir);

  // Where Open moved a damaged metadata.db ("" when it was sound) and what was wrong with it.
  const std::string& set_aside_path() const { return set_aside_path_; }
  const std::string& set_aside_problem() const { return set_aside_problem_; }

  // The version recorded in the file (kSchemaVersion once opened).
  Result<int> SchemaVersion();
  // A cheap liveness probe for Status: kInternal/kDataLoss if the store cannot be read.
  Result<void> Check();

  // A group of writes that commit together or not at all. Valid only inside Update().
  class Tx {
   public:
    // Inserts or replaces by id. kAlreadyExists when another record holds the name.
    Result<void> PutSandbox(const SandboxRecord& record);
    // kFailedPrecondition while containers of the sandbox remain. Unknown id is OK.
    Result<void> DeleteSandbox(const std::string& id);
    // kFailedPrecondition when the sandbox does not exist; kAlreadyExists on a name clash.
    Result<void> PutContainer(const ContainerRecord& record);
    // Unknown id is OK.
    Result<void> DeleteContainer(const std::string& id);

   private:
    friend class MetadataStore;
    explicit Tx(Database& db) : db_(db) {}
    Database& db_;
  };

  // Runs `fn` in one transaction: commits when it returns OK, rolls back otherwise.
  Result<void> Update(const std::function<Result<void>(Tx&)>& fn);

  // Single-write conveniences, each its own transaction.
  Result<void> PutSandbox(const SandboxRecord& record);
  Result<void> DeleteSandbox(const std::string& id);
  Result<void> PutContainer(const ContainerRecord& record);
  Result<void> DeleteContainer(const std::string& id);

  // kNotFound naming the id when absent.
  Result<SandboxRecord> GetSandbox(const std::string& id);
  Result<ContainerRecord> GetContainer(const std::string& id);
  // Ordered by creation time.
  Result<std::vector<SandboxRecord>> ListSandboxes();
  Result<std::vector<ContainerRecord>> ListContainers();

 private:
  explicit MetadataStore(std::unique_ptr<Database> db) : db_(std::move(db)) {}

  std::mutex mu_;
  std::unique_ptr<Database> db_;  // Guarded by mu_.
  std::string set_aside_path_;
  std::string set_aside_problem_;
};

}  // namespace cricket::cri
