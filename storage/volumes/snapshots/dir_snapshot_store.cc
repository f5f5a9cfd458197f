#include "storage/volumes/snapshots/dir_snapshot_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>

#include "common/files.h"
#include "storage/digest.h"

namespace cricket::storage::volumes {
namespace {

constexpr size_t kCopyBytes = 1 << 20;
constexpr int64_t kMaxManifestBytes = 4 << 20;

Result<void> CheckTag(const std::string& tag) {
  bool ok = !tag.empty() && tag.size() <= 128 && tag[0] != '.' && tag[0] != '-';
  for (char c : tag) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' ||
                c == '-');
  }
  if (!ok) {
    return Error(Code::kInvalidArgument, "invalid snapshot tag \"" + tag + "\"");
  }
  return Ok();
}

}  // namespace

Result<void> CopyIntoStore(int fd, const std::string& digest, int64_t size, ContentStore& store) {
  auto ingest = store.StartIngest(digest, size);
  if (!ingest.ok() && ingest.error().code() == Code::kAlreadyExists) {
    return Ok();
  }
  if (!ingest.ok()) {
    return std::move(ingest).error();
  }
  CR_RETURN_IF_ERROR(ingest->Restart());  // a stale partial file from a crash: start clean
  std::string buf(kCopyBytes, '\0');
  int64_t offset = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), offset);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Error::FromErrno(errno, "read blob " + digest);
    }
    if (n == 0) {
      break;
    }
    CR_RETURN_IF_ERROR(ingest->Write(std::string_view(buf.data(), static_cast<size_t>(n))));
    offset += n;
  }
  return ingest->Commit();
}

Result<std::unique_ptr<DirSnapshotStore>> DirSnapshotStore::Open(const std::string& root) {
  CR_ASSIGN_OR_RETURN(std::unique_ptr<ContentStore> store, ContentStore::Open(root));
  CR_RETURN_IF_ERROR(MakeDirs(root + "/tags", 0755));
  return std::unique_ptr<DirSnapshotStore>(new DirSnapshotStore(std::move(store)));
}

Result<bool> DirSnapshotStore::PutBlob(const Descriptor& blob, int fd) {
  if (store_->Has(blob.digest)) {
    return false;
  }
  auto r = CopyIntoStore(fd, blob.digest, blob.size, *store_);
  if (!r.ok()) {
    return r.error().Wrap("store blob in " + Describe());
  }
  return true;
}

Result<std::string> DirSnapshotStore::PutManifest(const std::string& body,
                                                  const std::string& tag) {
  std::string digest = Sha256Digest(body);
  if (!tag.empty()) {
    CR_RETURN_IF_ERROR(CheckTag(tag));
  }
  if (!store_->Has(digest)) {
    CR_RETURN_IF_ERROR(store_->WriteBlob(digest, body));
  }
  if (!tag.empty()) {
    CR_RETURN_IF_ERROR(WriteFileAtomic(store_->root() + "/tags/" + tag, digest + "\n", 0644));
  }
  return digest;
}

Result<std::string> DirSnapshotStore::GetManifest(const std::string& digest) {
  CR_RETURN_IF_ERROR(Sha256Hex(digest));
  auto body = store_->ReadBlob(digest, kMaxManifestBytes);
  if (!body.ok()) {
    if (body.error().code() == Code::kNotFound) {
      return Error(Code::kNotFound, "manifest " + digest + " not found in " + Describe());
    }
    return std::move(body).error();
  }
  if (Sha256Digest(*body) != digest) {
    return Error(Code::kDataLoss,
                 "manifest " + digest + " in " + Describe() + " does not match its digest");
  }
  return body;
}

Result<void> DirSnapshotStore::FetchBlob(const Descriptor& blob, ContentStore& cache) {
  if (cache.Has(blob.digest)) {
    return Ok();
  }
  auto fd = store_->OpenBlob(blob.digest);
  if (!fd.ok()) {
    if (fd.error().code() == Code::kNotFound) {
      return Error(Code::kNotFound, "blob " + blob.digest + " not found in " + Describe());
    }
    return std::move(fd).error();
  }
  auto r = CopyIntoStore(fd->get(), blob.digest, blob.size, cache);
  if (!r.ok()) {
    return r.error().Wrap("fetch from " + Describe());
  }
  return Ok();
}

Result<std::string> DirSnapshotStore::ResolveTag(const std::string& tag) const {
  CR_RETURN_IF_ERROR(CheckTag(tag));
  CR_ASSIGN_OR_RETURN(std::string digest, ReadFile(store_->root() + "/tags/" + tag));
  while (!digest.empty() && (digest.back() == '\n' || digest.back() == ' ')) {
    digest.pop_back();
  }
  return digest;
}

}  // namespace cricket::storage::volumes
