#include "storage/content_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>

#include "common/failpoint.h"
#include "common/files.h"
#include "storage/reference.h"

namespace cricket::storage {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

Result<int64_t> DirBytes(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return Error::FromErrno(errno, "open directory " + dir);
  }
  int64_t total = 0;
  while (dirent* e = ::readdir(d)) {
    struct stat st {};
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
      total += st.st_blocks * 512;
    }
  }
  ::closedir(d);
  return total;
}

}  // namespace

Ingest::~Ingest() {
  if (fd_.valid() && offset_ == 0) {
    ::unlink(partial_path_.c_str());  // nothing to resume
  }
}

Result<void> Ingest::HashExisting() {
  if (::lseek(fd_.get(), 0, SEEK_SET) < 0) {
    return Error::FromErrno(errno, "seek " + partial_path_);
  }
  std::string buf(kReadChunk, '\0');
  offset_ = 0;
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::FromErrno(errno, "read " + partial_path_);
    }
    if (n == 0) {
      break;
    }
    hash_->Update(std::string_view(buf.data(), static_cast<size_t>(n)));
    offset_ += n;
  }
  if (expected_size_ >= 0 && offset_ > expected_size_) {
    return Restart();
  }
  return Ok();
}

Result<void> Ingest::Write(std::string_view data) {
  if (expected_size_ >= 0 && offset_ + static_cast<int64_t>(data.size()) > expected_size_) {
    Discard();
    return Error(Code::kDataLoss, "blob " + digest_ + " is larger than its expected size " +
                                      std::to_string(expected_size_));
  }
  CR_RETURN_IF_ERROR(WriteAll(fd_.get(), data, partial_path_));
  hash_->Update(data);
  offset_ += static_cast<int64_t>(data.size());
  CR_FAILPOINT(kContentIngestWrite);  // a partial file with bytes in it
  return Ok();
}

Result<void> Ingest::Restart() {
  if (::ftruncate(fd_.get(), 0) < 0) {
    return Error::FromErrno(errno, "truncate " + partial_path_);
  }
  if (::lseek(fd_.get(), 0, SEEK_SET) < 0) {
    return Error::FromErrno(errno, "seek " + partial_path_);
  }
  hash_->Reset();
  offset_ = 0;
  return Ok();
}

Result<void> Ingest::Commit() {
  if (expected_size_ >= 0 && offset_ != expected_size_) {
    Discard();
    return Error(Code::kDataLoss, "blob " + digest_ + " has " + std::to_string(offset_) +
                                      " bytes, expected " + std::to_string(expected_size_));
  }
  std::string actual = hash_->Final();
  if (actual != digest_) {
    Discard();
    return Error(Code::kDataLoss,
                 "blob " + digest_ + " failed verification: content has digest " + actual);
  }
  if (::fsync(fd_.get()) < 0) {
    return Error::FromErrno(errno, "fsync " + partial_path_);
  }
  if (::fchmod(fd_.get(), 0444) < 0) {
    return Error::FromErrno(errno, "chmod " + partial_path_);
  }
  CR_FAILPOINT(kContentBeforeCommit);  // every byte verified, not yet under blobs/
  if (::rename(partial_path_.c_str(), blob_path_.c_str()) < 0) {
    return Error::FromErrno(errno, "rename " + partial_path_ + " to " + blob_path_);
  }
  FsyncDir(blob_path_.substr(0, blob_path_.rfind('/')));
  fd_.Reset();
  return FailPoint(FailPointId::kContentAfterCommit);
}

void Ingest::Discard() {
  if (fd_.valid()) {
    ::unlink(partial_path_.c_str());
    fd_.Reset();
  }
}

Result<std::unique_ptr<ContentStore>> ContentStore::Open(const std::string& root) {
  CR_RETURN_IF_ERROR(MakeDirs(root + "/blobs/sha256", 0700));
  CR_RETURN_IF_ERROR(MakeDirs(root + "/ingest", 0700));
  return std::unique_ptr<ContentStore>(new ContentStore(root));
}

Result<std::string> ContentStore::BlobPath(std::string_view digest) const {
  CR_ASSIGN_OR_RETURN(std::string hex, Sha256Hex(digest));
  return root_ + "/blobs/sha256/" + hex;
}

bool ContentStore::Has(std::string_view digest) const {
  auto path = BlobPath(digest);
  struct stat st {};
  return path.ok() && ::stat(path->c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<int64_t> ContentStore::Size(std::string_view digest) const {
  CR_ASSIGN_OR_RETURN(std::string path, BlobPath(digest));
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) {
    return Error::FromErrno(errno, "stat blob " + std::string(digest));
  }
  return static_cast<int64_t>(st.st_size);
}

Result<UniqueFd> ContentStore::OpenBlob(std::string_view digest) const {
  CR_ASSIGN_OR_RETURN(std::string path, BlobPath(digest));
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "open blob " + std::string(digest));
  }
  return fd;
}

Result<std::string> ContentStore::ReadBlob(std::string_view digest, int64_t max_bytes) const {
  CR_ASSIGN_OR_RETURN(int64_t size, Size(digest));
  if (size > max_bytes) {
    return Error(Code::kResourceExhausted, "blob " + std::string(digest) + " has " +
                                               std::to_string(size) + " bytes, more than " +
                                               std::to_string(max_bytes));
  }
  CR_ASSIGN_OR_RETURN(std::string path, BlobPath(digest));
  return ReadFile(path);
}

Result<void> ContentStore::WriteBlob(std::string_view digest, std::string_view data) {
  CR_ASSIGN_OR_RETURN(std::string blob_path, BlobPath(digest));
  std::string actual = Sha256Digest(data);
  if (actual != digest) {
    return Error(Code::kDataLoss, "blob " + std::string(digest) +
                                      " failed verification: content has digest " + actual);
  }
  if (Has(digest)) {
    return Ok();
  }
  // The bytes are verified already, so concurrent writers need no lock: each writes its own
  // temporary file and the renames replace identical content.
  std::string tmp = root_ + "/ingest/" + blob_path.substr(blob_path.rfind('/') + 1) + ".XXXXXX";
  UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "create temporary file in " + root_ + "/ingest");
  }
  auto written = WriteAll(fd.get(), data, tmp);
  if (written.ok() && ::fsync(fd.get()) < 0) {
    written = Error::FromErrno(errno, "fsync " + tmp);
  }
  if (written.ok() && ::fchmod(fd.get(), 0444) < 0) {
    written = Error::FromErrno(errno, "chmod " + tmp);
  }
  if (written.ok() && ::rename(tmp.c_str(), blob_path.c_str()) < 0) {
    written = Error::FromErrno(errno, "rename " + tmp + " to " + blob_path);
  }
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  FsyncDir(root_ + "/blobs/sha256");
  return Ok();
}

Result<Ingest> ContentStore::StartIngest(std::string_view digest, int64_t expected_size) {
  CR_ASSIGN_OR_RETURN(std::string blob_path, BlobPath(digest));
  std::string partial =
      root_ + "/ingest/" + blob_path.substr(blob_path.rfind('/') + 1) + ".partial";
  // Another writer may commit (rename) or discard (unlink) the partial file between our open and
  // our lock; then the locked inode is no longer the one at `partial`, and we start over.
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (Has(digest)) {
      return Error(Code::kAlreadyExists, "blob " + std::string(digest) + " already exists");
    }
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
    UniqueFd fd(::open(partial.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd.valid()) {
      return Error::FromErrno(errno, "open " + partial);
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
      if (errno == EWOULDBLOCK) {
        return Error(Code::kAborted,
                     "blob " + std::string(digest) + " is being written by another pull");
      }
      return Error::FromErrno(errno, "lock " + partial);
    }
    struct stat by_fd {};
    struct stat by_path {};
    if (::fstat(fd.get(), &by_fd) < 0) {
      return Error::FromErrno(errno, "stat " + partial);
    }
    if (::stat(partial.c_str(), &by_path) < 0 || by_fd.st_ino != by_path.st_ino ||
        by_fd.st_dev != by_path.st_dev) {
      continue;
    }
    Ingest ingest(std::string(digest), expected_size, partial, blob_path, std::move(fd));
    CR_RETURN_IF_ERROR(ingest.HashExisting());
    return ingest;
  }
  return Error(Code::kAborted, "blob " + std::string(digest) + " keeps changing under us");
}

Result<void> ContentStore::Delete(std::string_view digest) {
  CR_ASSIGN_OR_RETURN(std::string blob_path, BlobPath(digest));
  std::string partial =
      root_ + "/ingest/" + blob_path.substr(blob_path.rfind('/') + 1) + ".partial";
  if (::unlink(blob_path.c_str()) < 0 && errno != ENOENT) {
    return Error::FromErrno(errno, "remove blob " + std::string(digest));
  }
  if (::unlink(partial.c_str()) < 0 && errno != ENOENT) {
    return Error::FromErrno(errno, "remove " + partial);
  }
  return Ok();
}

Result<bool> ContentStore::DiscardPartial(std::string_view digest) {
  CR_ASSIGN_OR_RETURN(std::string blob_path, BlobPath(digest));
  std::string partial =
      root_ + "/ingest/" + blob_path.substr(blob_path.rfind('/') + 1) + ".partial";
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd fd(::open(partial.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return false;
    }
    return Error::FromErrno(errno, "open " + partial);
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
    return false;  // another pull is writing it and owns it
  }
  if (::unlink(partial.c_str()) < 0 && errno != ENOENT) {
    return Error::FromErrno(errno, "remove " + partial);
  }
  return true;
}

Result<std::vector<std::string>> ContentStore::List() const {
  CR_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(root_ + "/blobs/sha256"));
  std::vector<std::string> out;
  for (const auto& name : names) {
    if (IsHex64(name)) {
      out.push_back("sha256:" + name);
    }
  }
  return out;
}

Result<int> ContentStore::PruneIngest(int64_t max_age_seconds) {
  std::string dir = root_ + "/ingest";
  CR_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(dir));
  int removed = 0;
  time_t now = ::time(nullptr);
  for (const std::string& name : names) {
    std::string path = dir + "/" + name;
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (!fd.valid() || ::fstat(fd.get(), &st) < 0 || now - st.st_mtime < max_age_seconds) {
      continue;
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
      continue;  // a download is writing it right now
    }
    if (::unlink(path.c_str()) == 0) {
      ++removed;
    }
  }
  return removed;
}

int64_t ContentStore::FetchedBytes(std::string_view digest) const {
  auto hex = Sha256Hex(digest);
  if (!hex.ok()) {
    return 0;
  }
  struct stat st {};
  for (const std::string& path :
       {root_ + "/blobs/sha256/" + *hex, root_ + "/ingest/" + *hex + ".partial"}) {
    if (::stat(path.c_str(), &st) == 0) {
      return st.st_size;
    }
  }
  return 0;
}

Result<int64_t> ContentStore::UsageBytes() const {
  CR_ASSIGN_OR_RETURN(int64_t blobs, DirBytes(root_ + "/blobs/sha256"));
  CR_ASSIGN_OR_RETURN(int64_t ingest, DirBytes(root_ + "/ingest"));
  return blobs + ingest;
}

}  // namespace cricket::storage
