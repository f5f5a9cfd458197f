#include "storage/volumes/snapshots/layer_builder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <zstd.h>

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <utility>

#include "common/clock.h"
#include "common/files.h"
#include "common/unique_fd.h"
#include "storage/digest.h"
#include "storage/layer_path.h"
#include "storage/libarchive_ptr.h"

namespace cricket::storage::volumes {
namespace {

constexpr size_t kReadBytes = 256 * 1024;

struct ZstdFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};

// Receives the uncompressed tar from libarchive: hashes it (diff_id), compresses it, hashes and
// writes the result (the blob).
class BlobSink {
 public:
  BlobSink(int fd, LayerCompression compression) : fd_(fd), compression_(compression) {}

  Result<void> Init(int level) {
    if (compression_ == LayerCompression::kNone) {
      return Ok();
    }
    zstd_.reset(ZSTD_createCCtx());
    if (zstd_ == nullptr ||
        ZSTD_isError(ZSTD_CCtx_setParameter(zstd_.get(), ZSTD_c_compressionLevel, level)) != 0U ||
        ZSTD_isError(ZSTD_CCtx_setParameter(zstd_.get(), ZSTD_c_checksumFlag, 1)) != 0U) {
      return Error(Code::kInternal, "set up zstd compression");
    }
    buffer_.resize(ZSTD_CStreamOutSize());
    return Ok();
  }
  Result<void> Write(std::string_view data) {
    diff_hash_.Update(data);
    uncompressed_ += static_cast<int64_t>(data.size());
    if (compression_ == LayerCompression::kNone) {
      return Emit(data);
    }
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    while (in.pos < in.size) {
      CR_RETURN_IF_ERROR(Compress(in, ZSTD_e_continue));
    }
    return Ok();
  }
  Result<void> Finish() {
    if (compression_ == LayerCompression::kNone) {
      return Ok();
    }
    ZSTD_inBuffer in{nullptr, 0, 0};
    for (;;) {
      CR_ASSIGN_OR_RETURN(size_t left, Compress(in, ZSTD_e_end));
      if (left == 0) {
        return Ok();
      }
    }
  }
  std::string diff_id() { return diff_hash_.Final(); }
  std::string digest() { return blob_hash_.Final(); }
  int64_t uncompressed() const { return uncompressed_; }
  int64_t size() const { return size_; }
  Error& error() { return error_; }

 private:
  Result<size_t> Compress(ZSTD_inBuffer& in, ZSTD_EndDirective mode) {
    ZSTD_outBuffer out{buffer_.data(), buffer_.size(), 0};
    size_t left = ZSTD_compressStream2(zstd_.get(), &out, &in, mode);
    if (ZSTD_isError(left) != 0U) {
      return Error(Code::kInternal, std::string("zstd compression: ") + ZSTD_getErrorName(left));
    }
    CR_RETURN_IF_ERROR(Emit(std::string_view(buffer_.data(), out.pos)));
    return left;
  }
  Result<void> Emit(std::string_view data) {
    blob_hash_.Update(data);
    size_ += static_cast<int64_t>(data.size());
    return WriteAll(fd_, data, "volume layer");
  }

  int fd_;
  LayerCompression compression_;
  std::unique_ptr<ZSTD_CCtx, ZstdFree> zstd_;
  std::string buffer_;
  Sha256 diff_hash_;
  Sha256 blob_hash_;
  int64_t uncompressed_ = 0;
  int64_t size_ = 0;
  Error error_{Code::kOk, ""};
};

la_ssize_t OnArchiveWrite(archive* a, void* opaque, const void* buf, size_t n) {
  auto* sink = static_cast<BlobSink*>(opaque);
  auto r = sink->Write(std::string_view(static_cast<const char*>(buf), n));
  if (!r.ok()) {
    sink->error() = std::move(r).error();
    archive_set_error(a, EIO, "write volume layer");
    return -1;
  }
  return static_cast<la_ssize_t>(n);
}

bool SameVersion(const struct stat& a, const struct stat& b) {
  return a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec && a.st_ctim.tv_sec == b.st_ctim.tv_sec &&
         a.st_ctim.tv_nsec == b.st_ctim.tv_nsec && a.st_ino == b.st_ino;
}

// File times come from the coarse clock: a write during our read may leave mtime unchanged
// when it lands in the same tick as an earlier one.
int64_t CoarseNow() {
  timespec t{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &t);
  return TimespecNanos(t);
}

// The hash of the first `size` bytes of `fd` (a second read of a file just packed).
Result<std::string> HashPrefix(int fd, int64_t size, const std::string& what) {
  Sha256 hash;
  std::string buf(kReadBytes, '\0');
  int64_t offset = 0;
  while (offset < size) {
    size_t want = static_cast<size_t>(std::min<int64_t>(kReadBytes, size - offset));
    ssize_t n = ::pread(fd, buf.data(), want, offset);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Error::FromErrno(errno, "read volume file " + what);
    }
    if (n == 0) {
      std::fill(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(want), '\0');
      n = static_cast<ssize_t>(want);
    }
    hash.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
    offset += n;
  }
  return hash.Final();
}

class LayerWriter {
 public:
  LayerWriter(int volume_fd, BlobSink& sink, const LayerBuildOptions& options)
      : volume_fd_(volume_fd), sink_(sink), options_(options) {}

  Result<void> Open() {
    a_.reset(archive_write_new());
    if (a_ == nullptr || archive_write_set_format_pax(a_.get()) != ARCHIVE_OK ||
        archive_write_open(a_.get(), &sink_, nullptr, OnArchiveWrite, nullptr) != ARCHIVE_OK) {
      return Fail("open volume layer");
    }
    return Ok();
  }
  Result<void> Close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) {
      return Fail("finish volume layer");
    }
    return sink_.Finish();
  }
  Result<void> Whiteout(const std::string& path) {
    size_t slash = path.rfind('/');
    std::string name = slash == std::string::npos ? ".wh." + path
                                                  : path.substr(0, slash + 1) + ".wh." +
                                                        path.substr(slash + 1);
    ArchiveEntryPtr e(archive_entry_new());
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0);
    archive_entry_set_size(e.get(), 0);
    return WriteHeader(e.get(), name);
  }
  // False when the entry vanished (the caller whites it out instead).
  Result<bool> Pack(IndexEntry& entry) {
    if (entry.type != EntryType::kFile) {
      ArchiveEntryPtr e = Header(entry);
      if (entry.type == EntryType::kSymlink) {
        archive_entry_set_symlink(e.get(), entry.link_target.c_str());
      }
      CR_RETURN_IF_ERROR(WriteHeader(e.get(), entry.path));
      ++packed_;
      return true;
    }
    return PackFile(entry);
  }
  int64_t packed() const { return packed_; }
  int64_t torn() const { return torn_; }

 private:
  ArchiveEntryPtr Header(const IndexEntry& entry) {
    ArchiveEntryPtr e(archive_entry_new());
    archive_entry_set_pathname(e.get(), entry.path.c_str());
    unsigned type = AE_IFREG;
    switch (entry.type) {
      case EntryType::kDir: type = AE_IFDIR; break;
      case EntryType::kSymlink: type = AE_IFLNK; break;
      case EntryType::kFifo: type = AE_IFIFO; break;
      case EntryType::kCharDevice: type = AE_IFCHR; break;
      case EntryType::kBlockDevice: type = AE_IFBLK; break;
      case EntryType::kFile: break;
    }
    archive_entry_set_filetype(e.get(), type);
    archive_entry_set_perm(e.get(), entry.mode);
    archive_entry_set_uid(e.get(), entry.uid);
    archive_entry_set_gid(e.get(), entry.gid);
    archive_entry_set_mtime(e.get(), entry.mtime_ns / 1000000000, entry.mtime_ns % 1000000000);
    archive_entry_set_size(e.get(), 0);
    if (type == AE_IFCHR || type == AE_IFBLK) {
      archive_entry_set_rdev(e.get(), entry.rdev);
    }
    return e;
  }

  Result<bool> PackFile(IndexEntry& entry) {
    auto fd = OpenInRoot(volume_fd_, entry.path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, entry.path);
    if (!fd.ok()) {
      int err = fd.error().sys_errno();
      if (err == ENOENT || err == ENOTDIR || err == ELOOP || err == ENXIO) {
        return false;
      }
      return fd.error().Wrap("pack volume file " + entry.path);
    }
    auto link = links_.find({entry.dev, entry.ino});
    if (entry.nlink > 1 && link != links_.end()) {
      ArchiveEntryPtr e = Header(entry);
      archive_entry_set_hardlink(e.get(), link->second.first.c_str());
      CR_RETURN_IF_ERROR(WriteHeader(e.get(), entry.path));
      entry.hash = link->second.second;
      ++packed_;
      return true;
    }
    for (int attempt = 0;; ++attempt) {
      int64_t read_start_ns = CoarseNow();
      struct stat before {};
      if (::fstat(fd->get(), &before) < 0) {
        return Error::FromErrno(errno, "stat volume file " + entry.path);
      }
      if (!S_ISREG(before.st_mode)) {
        return false;  // replaced by something else since the scan
      }
      entry.mode = before.st_mode & 07777;
      entry.uid = before.st_uid;
      entry.gid = before.st_gid;
      entry.size = before.st_size;
      entry.mtime_ns = TimespecNanos(before.st_mtim);
      entry.ctime_ns = TimespecNanos(before.st_ctim);
      entry.nlink = before.st_nlink;
      CR_ASSIGN_OR_RETURN(entry.hash, WriteFile(fd->get(), entry));
      struct stat after {};
      if (::fstat(fd->get(), &after) < 0) {
        return Error::FromErrno(errno, "stat volume file " + entry.path);
      }
      bool stable = SameVersion(before, after);
      if (stable && (TimespecNanos(after.st_mtim) >= read_start_ns || TimespecNanos(after.st_ctim) >= read_start_ns)) {
        // Modified within the timestamp tick of our read: stat cannot tell whether a write
        // landed during it, so a second read must give the same content.
        CR_ASSIGN_OR_RETURN(std::string again, HashPrefix(fd->get(), entry.size, entry.path));
        struct stat last {};
        if (::fstat(fd->get(), &last) < 0) {
          return Error::FromErrno(errno, "stat volume file " + entry.path);
        }
        stable = again == entry.hash && SameVersion(before, last);
      }
      if (stable) {
        entry.dirty = false;
        break;
      }
      ++torn_;
      if (attempt >= options_.torn_retries) {
        entry.dirty = true;  // packed as read; the next snapshot packs it again
        break;
      }
    }
    if (entry.nlink > 1) {
      links_[{entry.dev, entry.ino}] = {entry.path, entry.hash};
    }
    ++packed_;
    return true;
  }

  // Writes header and exactly entry.size bytes (zeros when the file shrank meanwhile).
  Result<std::string> WriteFile(int fd, const IndexEntry& entry) {
    ArchiveEntryPtr e = Header(entry);
    archive_entry_set_size(e.get(), entry.size);
    CR_RETURN_IF_ERROR(WriteHeader(e.get(), entry.path));
    Sha256 hash;
    std::string buf(kReadBytes, '\0');
    int64_t offset = 0;
    while (offset < entry.size) {
      size_t want = static_cast<size_t>(std::min<int64_t>(kReadBytes, entry.size - offset));
      ssize_t n = ::pread(fd, buf.data(), want, offset);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return Error::FromErrno(errno, "read volume file " + entry.path);
      }
      if (n == 0) {
        std::fill(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(want), '\0');
        n = static_cast<ssize_t>(want);
      }
      std::string_view chunk(buf.data(), static_cast<size_t>(n));
      hash.Update(chunk);
      if (archive_write_data(a_.get(), chunk.data(), chunk.size()) < 0) {
        return Fail("write volume layer entry " + entry.path);
      }
      offset += n;
    }
    return hash.Final();
  }

  Result<void> WriteHeader(archive_entry* e, const std::string& what) {
    if (archive_write_header(a_.get(), e) != ARCHIVE_OK) {
      return Fail("write volume layer entry " + what);
    }
    return Ok();
  }

  Error Fail(const std::string& what) {
    if (sink_.error().code() != Code::kOk) {
      return sink_.error().Wrap(what);
    }
    const char* msg = a_ != nullptr ? archive_error_string(a_.get()) : nullptr;
    return Error(Code::kInternal, what + ": " + (msg != nullptr ? msg : "libarchive failed"));
  }

  int volume_fd_;
  BlobSink& sink_;
  const LayerBuildOptions& options_;
  ArchiveWriter a_;
  // (dev, ino) of a multiply-linked file packed in this layer -> (its path, its hash).
  std::map<std::pair<uint64_t, uint64_t>, std::pair<std::string, std::string>> links_;
  int64_t packed_ = 0;
  int64_t torn_ = 0;
};

}  // namespace

Result<BuiltLayer> BuildLayer(int volume_fd, std::vector<IndexEntry>& entries,
                              const IndexDiff& diff, int out_fd, const LayerBuildOptions& options) {
  BlobSink sink(out_fd, options.compression);
  CR_RETURN_IF_ERROR(sink.Init(options.zstd_level));
  LayerWriter writer(volume_fd, sink, options);
  CR_RETURN_IF_ERROR(writer.Open());
  // Whiteouts first: they name only paths absent from this layer, and a reader that stops
  // early has then at least dropped the deleted entries.
  for (const std::string& path : diff.whiteouts) {
    CR_RETURN_IF_ERROR(writer.Whiteout(path));
  }
  std::vector<bool> vanished(entries.size(), false);
  for (size_t i : diff.pack) {
    CR_ASSIGN_OR_RETURN(bool packed, writer.Pack(entries[i]));
    if (!packed) {
      vanished[i] = true;
      CR_RETURN_IF_ERROR(writer.Whiteout(entries[i].path));
    }
  }
  CR_RETURN_IF_ERROR(writer.Close());
  size_t keep = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!vanished[i]) {
      if (keep != i) {
        entries[keep] = std::move(entries[i]);
      }
      ++keep;
    }
  }
  entries.resize(keep);

  BuiltLayer out;
  out.descriptor.media_type =
      std::string(options.compression == LayerCompression::kZstd ? kLayerTarZstd : kLayerTar);
  out.descriptor.digest = sink.digest();
  out.descriptor.size = sink.size();
  out.diff_id = sink.diff_id();
  out.uncompressed_bytes = sink.uncompressed();
  out.entries_packed = writer.packed();
  out.torn_rereads = writer.torn();
  return out;
}

}  // namespace cricket::storage::volumes
