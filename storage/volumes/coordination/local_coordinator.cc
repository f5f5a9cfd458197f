#include "storage/volumes/coordination/local_coordinator.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <functional>
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
// description, so a dead process drops them and two descriptions in one process exclude each
// other), plus byte ranges and F_OFD_GETLK. Byte 0 of the lock file is the owner lock, held
// for as long as the volume is attached. Byte 1 is the state lock, held only for the moment
// it takes to change the volume's files (write lock) or read them (read lock): a contender
// that fails to get the owner lock reads the holder's name under it, so it never sees the
// winner before the winner has written its name.
constexpr off_t kOwnerByte = 0;
constexpr off_t kStateByte = 1;

struct flock ByteLock(int type, off_t byte) {
  struct flock fl = {};
  fl.l_type = static_cast<decltype(fl.l_type)>(type);
  fl.l_whence = SEEK_SET;
  fl.l_start = byte;
  fl.l_len = 1;
  return fl;
}

// F_OFD_SETLKW for the state lock (held briefly by live processes only), F_OFD_SETLK for the
// owner lock. false with errno set when it failed.
bool SetLock(int fd, int type, off_t byte, bool wait) {
  struct flock fl = ByteLock(type, byte);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  while (::fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) < 0) {
    if (errno != EINTR) {
      return false;
    }
  }
  return true;
}

// "<node> <pid>" as the holder wrote it; "unknown" when it wrote nothing.
std::string HolderOf(int fd) {
  std::array<char, 512> buf{};
  ssize_t n = ::pread(fd, buf.data(), buf.size(), 0);
  std::string holder = n > 0 ? std::string(buf.data(), static_cast<size_t>(n)) : "";
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
  std::string TokenPath(const std::string& volume) const { return dir_ + "/" + volume + ".token"; }
  std::string HeadPath(const std::string& volume) const { return dir_ + "/" + volume + ".head"; }

  // Takes the owner lock of `volume` on a fresh open file description and runs `on_locked`
  // with it, both under the state lock. kUnavailable naming the holder when someone else owns
  // the volume; when `on_locked` fails the owner lock is dropped again.
  Result<UniqueFd> LockVolume(const std::string& volume,
                              const std::function<Result<void>(int fd)>& on_locked);
  Result<int64_t> ReadToken(const std::string& volume);
  Result<void> WriteHolder(int fd, const std::string& volume, const std::string& node);
  // OK when `lease` holds its volume now: held by this object with the same token, or resumed
  // (lock free and counter unchanged since the lease was granted). kAborted otherwise.
  Result<void> CheckHeldLocked(const VolumeLease& lease);
  // One row of List(): the owner (under the state lock) and the head; both may be empty.
  Result<VolumeOwner> ReadRow(const std::string& volume);

  const std::string dir_;
  std::mutex mu_;
  std::map<std::string, Held> held_;  // Guarded by mu_.
};

Result<UniqueFd> LocalCoordinator::LockVolume(
    const std::string& volume, const std::function<Result<void>(int fd)>& on_locked) {
  std::string path = LockPath(volume);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "open volume lock " + path);
  }
  if (!SetLock(fd.get(), F_WRLCK, kStateByte, /*wait=*/true)) {
    return Error::FromErrno(errno, "lock state of " + path);
  }
  // Closing `fd` on any return below drops the state lock (and the owner lock with it).
  if (!SetLock(fd.get(), F_WRLCK, kOwnerByte, /*wait=*/false)) {
    if (errno != EAGAIN && errno != EACCES) {
      return Error::FromErrno(errno, "lock " + path);
    }
    return Error(Code::kUnavailable,
                 "volume " + volume + " is owned by node " + NodeOf(HolderOf(fd.get())));
  }
  CR_RETURN_IF_ERROR(on_locked(fd.get()));
  if (!SetLock(fd.get(), F_UNLCK, kStateByte, /*wait=*/false)) {
    return Error::FromErrno(errno, "unlock state of " + path);
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

Result<VolumeLease> LocalCoordinator::Acquire(const std::string& volume, const std::string& node) {
  CR_RETURN_IF_ERROR(ValidateVolumeName(volume));
  CR_RETURN_IF_ERROR(ValidateNodeName(node));
  std::lock_guard lock(mu_);
  int64_t token = 0;
  CR_ASSIGN_OR_RETURN(
      UniqueFd fd, LockVolume(volume, [&](int lock_fd) -> Result<void> {
        // Only the owner touches the counter, so read-increment-rewrite cannot race.
        CR_ASSIGN_OR_RETURN(int64_t previous, ReadToken(volume));
        token = previous + 1;
        CR_RETURN_IF_ERROR(WriteFileAtomic(TokenPath(volume), std::to_string(token) + "\n", 0600));
        return WriteHolder(lock_fd, volume, node);
      }));
  held_[volume] = Held{.lock = std::move(fd), .token = token};
  return VolumeLease{.volume = volume,
                     .node = node,
                     .token = token,
                     .lease_id = 0,
                     .ttl = std::chrono::seconds(0)};
}

Result<void> LocalCoordinator::CheckHeldLocked(const VolumeLease& lease) {
  const std::string what =
      "lease on volume " + lease.volume + " (token " + std::to_string(lease.token) + ")";
  auto it = held_.find(lease.volume);
  if (it != held_.end() && it->second.token != lease.token) {
    return Error(Code::kAborted,
                 what + " was replaced by token " + std::to_string(it->second.token));
  }
  if (it == held_.end()) {
    // Not ours in this process: resume it if nobody took the volume since (a restart).
    Result<UniqueFd> fd = LockVolume(lease.volume, [&](int lock_fd) -> Result<void> {
      CR_ASSIGN_OR_RETURN(int64_t current, ReadToken(lease.volume));
      if (current != lease.token) {
        return Error(Code::kAborted, what + " is stale: the volume was acquired since (token " +
                                         std::to_string(current) + ")");
      }
      return WriteHolder(lock_fd, lease.volume, lease.node);
    });
    if (!fd.ok()) {
      if (fd.error().code() == Code::kUnavailable) {
        return Error(Code::kAborted, what + " is lost: " + fd.error().message());
      }
      return std::move(fd).error();
    }
    held_[lease.volume] = Held{.lock = std::move(*fd), .token = lease.token};
    return Ok();
  }
  // Held here; the counter only moves under the lock, so a mismatch means tampering.
  CR_ASSIGN_OR_RETURN(int64_t current, ReadToken(lease.volume));
  if (current != lease.token) {
    return Error(Code::kAborted,
                 what + " is stale: the fencing counter is " + std::to_string(current));
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
  // Clear the holder first, under the state lock, so List() and error messages never name a
  // released owner. The lease goes either way: closing the description drops both locks.
  UniqueFd fd = std::move(it->second.lock);
  held_.erase(it);
  if (!SetLock(fd.get(), F_WRLCK, kStateByte, /*wait=*/true) || ::ftruncate(fd.get(), 0) < 0) {
    return Error::FromErrno(errno, "clear the holder of " + LockPath(lease.volume));
  }
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

Result<VolumeOwner> LocalCoordinator::ReadRow(const std::string& volume) {
  VolumeOwner row;
  row.volume = volume;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd fd(::open(LockPath(volume).c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.valid()) {
    if (!SetLock(fd.get(), F_RDLCK, kStateByte, /*wait=*/true)) {
      return Error::FromErrno(errno, "lock state of " + LockPath(volume));
    }
    struct flock fl = ByteLock(F_WRLCK, kOwnerByte);
    if (::fcntl(fd.get(), F_OFD_GETLK, &fl) < 0) {  // NOLINT(cppcoreguidelines-pro-type-vararg)
      return Error::FromErrno(errno, "query lock " + LockPath(volume));
    }
    if (fl.l_type != F_UNLCK) {
      row.node = NodeOf(HolderOf(fd.get()));
      CR_ASSIGN_OR_RETURN(row.token, ReadToken(volume));
    }
  }
  CR_ASSIGN_OR_RETURN(row.head, ReadHead(volume));
  return row;
}

Result<std::vector<VolumeOwner>> LocalCoordinator::List() {
  CR_ASSIGN_OR_RETURN(std::vector<std::string> entries, ListDirectory(dir_));
  std::set<std::string> volumes;
  for (const std::string& name : entries) {
    for (std::string_view suffix : {kLockSuffix, kHeadSuffix}) {
      std::string volume = name.substr(0, name.size() - suffix.size());
      if (name.size() > suffix.size() && name.ends_with(suffix) &&
          ValidateVolumeName(volume).ok()) {
        volumes.insert(volume);
      }
    }
  }
  std::vector<VolumeOwner> owners;
  for (const std::string& volume : volumes) {
    CR_ASSIGN_OR_RETURN(VolumeOwner row, ReadRow(volume));
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
