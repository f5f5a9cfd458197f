#include "storage/layer_unpack.h"

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>

#include <memory>
#include <string>

#include "storage/digest.h"
#include "storage/layer_entry_writer.h"

namespace cricket::storage {
namespace {

constexpr size_t kBlockBytes = 128 * 1024;

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

// The decompressed byte stream of the blob. libarchive's "raw" format over its gzip/zstd
// filters yields exactly the uncompressed tar, which we hash (the diff_id) while the tar reader
// consumes it.
struct Decompressed {
  archive* raw = nullptr;
  Sha256 hash;
  int64_t bytes = 0;
  std::string error;
};

la_ssize_t ReadDecompressed(archive* tar, void* opaque, const void** buf) {
  auto* d = static_cast<Decompressed*>(opaque);
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  int r = archive_read_data_block(d->raw, &block, &size, &offset);
  if (r == ARCHIVE_EOF) {
    return 0;
  }
  if (r != ARCHIVE_OK) {
    const char* msg = archive_error_string(d->raw);
    d->error = msg != nullptr ? msg : "decompression failed";
    archive_set_error(tar, EIO, "%s", d->error.c_str());
    return -1;
  }
  d->hash.Update(std::string_view(static_cast<const char*>(block), size));
  d->bytes += static_cast<int64_t>(size);
  *buf = block;
  return static_cast<la_ssize_t>(size);
}

Error StreamError(archive* a, const Decompressed& d, const char* step) {
  std::string msg = !d.error.empty()                     ? d.error
                    : archive_error_string(a) != nullptr ? archive_error_string(a)
                                                         : "unknown error";
  return Error(Code::kDataLoss,
               std::string("layer stream is corrupt or truncated (") + step + "): " + msg);
}

Result<ArchivePtr> OpenRaw(int blob_fd) {
  ArchivePtr raw(archive_read_new());
  if (raw == nullptr) {
    return Error(Code::kResourceExhausted, "allocate layer reader");
  }
  // The layer media types allow gzip, zstd or no compression.
  archive_read_support_filter_gzip(raw.get());
  archive_read_support_filter_zstd(raw.get());
  archive_read_support_format_raw(raw.get());
  if (archive_read_open_fd(raw.get(), blob_fd, kBlockBytes) != ARCHIVE_OK) {
    return Error(Code::kDataLoss,
                 std::string("open layer stream: ") + archive_error_string(raw.get()));
  }
  return raw;
}

}  // namespace

Result<UnpackStats> UnpackLayer(int blob_fd, int layer_fd, const UnpackOptions& options) {
  CR_ASSIGN_OR_RETURN(ArchivePtr raw, OpenRaw(blob_fd));
  Decompressed stream;
  stream.raw = raw.get();
  archive_entry* raw_entry = nullptr;
  int r = archive_read_next_header(raw.get(), &raw_entry);
  if (r != ARCHIVE_OK) {
    return StreamError(raw.get(), stream, "header");
  }

  ArchivePtr tar(archive_read_new());
  archive_read_support_format_tar(tar.get());
  archive_read_support_format_gnutar(tar.get());
  if (archive_read_open(tar.get(), &stream, nullptr, ReadDecompressed, nullptr) != ARCHIVE_OK) {
    return StreamError(tar.get(), stream, "open");
  }
  LayerEntryWriter writer(layer_fd, options);
  UnpackStats stats;
  for (;;) {
    archive_entry* entry = nullptr;
    r = archive_read_next_header(tar.get(), &entry);
    if (r == ARCHIVE_EOF) {
      break;
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return StreamError(tar.get(), stream, "entry");
    }
    CR_RETURN_IF_ERROR(writer.Write(tar.get(), entry));
    ++stats.entries;
  }
  CR_RETURN_IF_ERROR(writer.Finish());
  // The diff_id covers the whole uncompressed stream, including the padding after the tar's
  // end-of-archive blocks, which the tar reader does not consume.
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  while ((r = archive_read_data_block(raw.get(), &block, &size, &offset)) == ARCHIVE_OK) {
    stream.hash.Update(std::string_view(static_cast<const char*>(block), size));
    stream.bytes += static_cast<int64_t>(size);
  }
  if (r != ARCHIVE_EOF) {
    return StreamError(raw.get(), stream, "trailer");
  }
  stats.diff_id = stream.hash.Final();
  stats.uncompressed_bytes = stream.bytes;
  if (!options.expected_diff_id.empty() && stats.diff_id != options.expected_diff_id) {
    return Error(Code::kDataLoss, "layer diff_id mismatch: expected " + options.expected_diff_id +
                                      ", got " + stats.diff_id);
  }
  return stats;
}

}  // namespace cricket::storage
