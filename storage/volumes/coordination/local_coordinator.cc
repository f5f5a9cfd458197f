#include "storage/volumes/coordination/local_coordinator.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "common/files.h"
#include "common/unique_fd.h"
#include "storage/volumes/coordination/head_record.h"

namespace cricket::storage {
namespace {

constexpr std::string_view kLockSuffix = ".lock";
constexpr std::string_view kHeadSuffix = ".head";

// Open-file-description locks rather than flock(2): the same lifetime (the open file
// description, so a dead process drops it and two descriptions in one process exclude each
// other), plus F_OFD_GETLK, which lets List() see a holder without taking the lock itself.
struct flock WholeFile(int type) {
  struct flock fl = {};
  fl.l_type = static_cast<decltype(fl.l_type)>(type);
  fl.l_whence = SEEK_SET;
  return fl;
}

// "<node> <pid>" as the holder wrote it; "unknown" when it wrote nothing.
std::string HolderOf(int fd) {
  char buf[512] = {};
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) {
    holder.pop_back();
  }
  return holder.empty() ? "unknown" : holder;
}

// The node part of HolderOf.
std::string NodeOf(const std::string& holder) { return holder.substr(0, holder.find(' ')); }

class LocalCoordinator final : public VolumeCoordinator {
 public:
  explicit LocalCoordinator(std::string dir) : dir_(std::move(dir)) {}

  Result<VolumeLease> Acquire(const std::string& volume, const std::string& node) override;
  Result<void> KeepAlive(const VolumeLease& lease) override;
  Result<void> Release(const VolumeLease& lease) override;
  Result<std::optional<VolumeHead>> ReadHead(const std::string& volume) override;
  Result<void> PublishHead(const VolumeLease& lease, const VolumeHead& head) override;
  Result<std::vector<VolumeOwner>> List() override;

 private:
  struct Held {
    UniqueFd lock;
    int64_t token = 0;
  };

  std::string LockPath(const std::string& volume) const { return dir_ + "/" + volume + ".lock"; }
  std::string TokenPath(const std::string& volume) const {
    return dir_ + "/" + volume + ".token";
  }
  std::string HeadPath(const std::string& volume) const { return dir_ + "/" + volume + ".head"; }

  // The lock of `volume` on a fresh open file description, or kUnavailable naming the holder.
  Result<UniqueFd> LockVolume(const std::string& volume);
  Result<int64_t> ReadToken(const std::string& volume);
  Result<void> WriteHolder(int fd, const std::string& volume, const std::string& node);
  // OK when `lease` holds its volume now: held by this object with the same token, or resumed
  // (lock free and counter unchanged since the lease was granted). kAborted otherwise.
  Result<void> CheckHeldLocked(const VolumeLease& lease);

  const std::string dir_;
  std::mutex mu_;
  std::map<std::string, Held> held_;  // Guarded by mu_.
};

Result<UniqueFd> LocalCoordinator::LockVolume(const std::string& volume) {
  std::string path = LockPath(volume);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (!fd.valid()) {
    return Error::FromErrno(errno, "open volume lock " + path);
  }
  struct flock fl = WholeFile(F_WRLCK);
  if (::fcntl(fd.get(), F_OFD_SETLK, &fl) < 0) {  // NOLINT(cppcoreguidelines-pro-type-vararg)
    if (errno != EAGAIN && errno != EACCES) {
      return Error::FromErrno(errno, "lock " + path);
    }
    return Error(Code::kUnavailable,
                 "volume " + volume + " is owned by node " + NodeOf(HolderOf(fd.get())));
  }
  return fd;
}

Result<int64_t> LocalCoordinator::ReadToken(const std::string& volume) {
  Result<std::string> data = ReadFile(TokenPath(volume));
  if (!data.ok()) {
    if (data.error().code() == Code::kNotFound) {
      return int64_t{0};
    }
    return std::move(data).error();
  }
  int64_t token = 0;
  const std::string& s = *data;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), token);
  if (ec != std::errc() || token < 0) {
    return Error(Code::kDataLoss, "fencing counter " + TokenPath(volume) + " is not a number");
  }
  (void)end;
  return token;
}

Result<void> LocalCoordinator::WriteHolder(int fd, const std::string& volume,
                                           const std::string& node) {
  std::string holder = node + " " + std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) < 0) {
    return Error::FromErrno(errno, "truncate " + LockPath(volume));
  }
  if (::pwrite(fd, holder.data(), holder.size(), 0) < 0) {
    return Error::FromErrno(errno, "write " + LockPath(volume));
  }
  return Ok();
}

Result<VolumeLease> LocalCoordinator::Acquire(const std::string& volume,
                                              const std::string& node) {
  CR_RETURN_IF_ERROR(ValidateVolumeName(volume));
  CR_RETURN_IF_ERROR(ValidateNodeName(node));
  std::lock_guard lock(mu_);
  CR_ASSIGN_OR_RETURN(UniqueFd fd, LockVolume(volume));
  // Only the lock holder touches the counter, so read-increment-rewrite cannot race.
  CR_ASSIGN_OR_RETURN(int64_t previous, ReadToken(volume));
  int64_t token = previous + 1;
  CR_RETURN_IF_ERROR(WriteFileAtomic(TokenPath(volume), std::to_string(token) + "\n", 0600));
  CR_RETURN_IF_ERROR(WriteHolder(fd.get(), volume, node));
  held_[volume] = Held{.lock = std::move(fd), .token = token};
  return VolumeLease{
      .volume = volume, .node = node, .token = token, .lease_id = 0, .ttl = std::chrono::seconds(0)};
}

Result<void> LocalCoordinator::CheckHeldLocked(const VolumeLease& lease) {
  const std::string what = "lease on volume " + lease.volume + " (token " +
                           std::to_string(lease.token) + ")";
  auto it = held_.find(lease.volume);
  if (it != held_.end() && it->second.token != lease.token) {
    return Error(Code::kAborted, what + " was replaced by token " +
                                     std::to_string(it->second.token));
  }
  if (it == held_.end()) {
    // Not ours in this process: resume it if nobody took the volume since (a restart).
    Result<UniqueFd> fd = LockVolume(lease.volume);
    if (!fd.ok()) {
      if (fd.error().code() == Code::kUnavailable) {
        return Error(Code::kAborted, what + " is lost: " + fd.error().message());
      }
      return std::move(fd).error();
    }
    CR_ASSIGN_OR_RETURN(int64_t current, ReadToken(lease.volume));
    if (current != lease.token) {
      return Error(Code::kAborted,
                   what + " is stale: the volume was acquired since (token " +
                       std::to_string(current) + ")");
    }
    CR_RETURN_IF_ERROR(WriteHolder(fd->get(), lease.volume, lease.node));
    held_[lease.volume] = Held{.lock = std::move(*fd), .token = lease.token};
    return Ok();
  }
  // Held here; the counter only moves under the lock, so a mismatch means tampering.
  CR_ASSIGN_OR_RETURN(int64_t current, ReadToken(lease.volume));
  if (current != lease.token) {
    return Error(Code::kAborted, what + " is stale: the fencing counter is " +
                                     std::to_string(current));
  }
  return Ok();
}

Result<void> LocalCoordinator::KeepAlive(const VolumeLease& lease) {
  CR_RETURN_IF_ERROR(ValidateVolumeName(lease.volume));
  std::lock_guard lock(mu_);
  return CheckHeldLocked(lease);
}

Result<void> LocalCoordinator::Release(const VolumeLease& lease) {
  CR_RETURN_IF_ERROR(ValidateVolumeName(lease.volume));
  std::lock_guard lock(mu_);
  auto it = held_.find(lease.volume);
  if (it == held_.end() || it->second.token != lease.token) {
    return Ok();  // released before, or never ours in this process
  }
  // Clear the holder first so List() and error messages never name a released owner.
  if (::ftruncate(it->second.lock.get(), 0) < 0) {
    return Error::FromErrno(errno, "truncate " + LockPath(lease.volume));
  }
  held_.erase(it);  // closing the description drops the lock
  return Ok();
}

Result<std::optional<VolumeHead>> LocalCoordinator::ReadHead(const std::string& volume) {
  CR_RETURN_IF_ERROR(ValidateVolumeName(volume));
  Result<std::string> data = ReadFile(HeadPath(volume));
  if (!data.ok()) {
    if (data.error().code() == Code::kNotFound) {
      return std::optional<VolumeHead>();
    }
    return std::move(data).error();
  }
  CR_ASSIGN_OR_RETURN(VolumeHead head, DecodeHead(*data, HeadPath(volume)));
  return std::optional<VolumeHead>(std::move(head));
}

Result<void> LocalCoordinator::PublishHead(const VolumeLease& lease, const VolumeHead& head) {
  CR_RETURN_IF_ERROR(ValidateVolumeName(lease.volume));
  std::lock_guard lock(mu_);
  Result<void> held = CheckHeldLocked(lease);
  if (!held.ok()) {
    return held.error().code() == Code::kAborted
               ? Error(Code::kAborted, "publish head of volume " + lease.volume +
                                           ": fenced: " + held.error().message())
               : std::move(held).error();
  }
  VolumeHead stored{.manifest_digest = head.manifest_digest, .token = lease.token};
  return WriteFileAtomic(HeadPath(lease.volume), EncodeHead(stored), 0600);
}

Result<std::vector<VolumeOwner>> LocalCoordinator::List() {
  CR_ASSIGN_OR_RETURN(std::vector<std::string> entries, ListDirectory(dir_));
  std::set<std::string> volumes;
  for (const std::string& name : entries) {
    for (std::string_view suffix : {kLockSuffix, kHeadSuffix}) {
      if (name.size() > suffix.size() && name.ends_with(suffix)) {
        std::string volume = name.substr(0, name.size() - suffix.size());
        if (ValidateVolumeName(volume).ok()) {
          volumes.insert(volume);
        }
      }
    }
  }
  std::vector<VolumeOwner> owners;
  for (const std::string& volume : volumes) {
    VolumeOwner row;
    row.volume = volume;
    UniqueFd fd(::open(LockPath(volume).c_str(), O_RDONLY | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
    struct flock fl = WholeFile(F_WRLCK);
    if (fd.valid() && ::fcntl(fd.get(), F_OFD_GETLK, &fl) == 0 &&  // NOLINT(cppcoreguidelines-pro-type-vararg)
        fl.l_type != F_UNLCK) {
      row.node = NodeOf(HolderOf(fd.get()));
      CR_ASSIGN_OR_RETURN(row.token, ReadToken(volume));
    }
    CR_ASSIGN_OR_RETURN(row.head, ReadHead(volume));
    if (!row.node.empty() || row.head.has_value()) {
      owners.push_back(std::move(row));
    }
  }
  return owners;
}

}  // namespace

Result<std::unique_ptr<VolumeCoordinator>> MakeLocalCoordinator(const CoordinatorOptions& options) {
  if (options.local_dir.empty()) {
    return Error(Code::kInvalidArgument, "local volume coordination needs a directory (local_dir)");
  }
  CR_RETURN_IF_ERROR(MakeDirs(options.local_dir, 0700));
  return std::unique_ptr<VolumeCoordinator>(std::make_unique<LocalCoordinator>(options.local_dir));
}

}  // namespace cricket::storage
