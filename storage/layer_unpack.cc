#include "storage/layer_unpack.h"

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>

#include <memory>
#include <string>

#include "storage/digest.h"
#include "storage/layer_entry_writer.h"
#include "storage/libarchive_ptr.h"

namespace cricket::storage {
namespace {

constexpr size_t kUnpackBlockBytes = 128 * 1024;

// The decompressed byte stream of the blob. libarchive's "raw" format over its gzip/zstd
// filters yields exactly the uncompressed tar, which we hash (the diff_id) while the tar reader
// consumes it.
struct Decompressed {
  archive* raw = nullptr;
  Sha256 hash;
  int64_t bytes = 0;
  int64_t max_bytes = 0;
  bool over_limit = false;  // the stream passed max_bytes; every later failure is that
  std::string error;

  // Hashes and counts one block of the stream; false once the stream is over the cap. This is
  // the decompressor's output, so headers, long names and sparse maps count like file data.
  bool Take(const void* block, size_t size) {
    bytes += static_cast<int64_t>(size);
    if (bytes > max_bytes) {
      over_limit = true;
      return false;
    }
    hash.Update(std::string_view(static_cast<const char*>(block), size));
    return true;
  }
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
  if (!d->Take(block, size)) {
    archive_set_error(tar, EFBIG, "layer exceeds the uncompressed size limit");
    return -1;
  }
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

Error BytesLimitError(int64_t max_bytes) {
  return Error(Code::kResourceExhausted,
               "layer exceeds the limit of " + std::to_string(max_bytes) +
                   " uncompressed bytes (images.max_layer_uncompressed_bytes)");
}

Error EntriesLimitError(int64_t max_entries) {
  return Error(Code::kResourceExhausted, "layer exceeds the limit of " +
                                             std::to_string(max_entries) +
                                             " entries (images.max_layer_entries)");
}

Result<ArchiveReader> OpenRaw(int blob_fd) {
  ArchiveReader raw(archive_read_new());
  if (raw == nullptr) {
    return Error(Code::kResourceExhausted, "allocate layer reader");
  }
  // The layer media types allow gzip, zstd or no compression.
  archive_read_support_filter_gzip(raw.get());
  archive_read_support_filter_zstd(raw.get());
  archive_read_support_format_raw(raw.get());
  if (archive_read_open_fd(raw.get(), blob_fd, kUnpackBlockBytes) != ARCHIVE_OK) {
    // libarchive may fail without a message (a gzip header cut short): never append NULL.
    const char* msg = archive_error_string(raw.get());
    return Error(Code::kDataLoss,
                 std::string("open layer stream: ") + (msg != nullptr ? msg : "unknown error"));
  }
  return raw;
}

}  // namespace

Result<UnpackStats> UnpackLayer(int blob_fd, int layer_fd, const UnpackOptions& options) {
  if (options.max_uncompressed_bytes <= 0 || options.max_entries <= 0) {
    return Error(Code::kInvalidArgument, "layer unpack limits must be positive");
  }
  CR_ASSIGN_OR_RETURN(ArchiveReader raw, OpenRaw(blob_fd));
  Decompressed stream;
  stream.raw = raw.get();
  stream.max_bytes = options.max_uncompressed_bytes;
  archive_entry* raw_entry = nullptr;
  int r = archive_read_next_header(raw.get(), &raw_entry);
  if (r != ARCHIVE_OK) {
    return StreamError(raw.get(), stream, "header");
  }

  ArchiveReader tar(archive_read_new());
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
      return stream.over_limit ? BytesLimitError(stream.max_bytes)
                               : StreamError(tar.get(), stream, "entry");
    }
    // Checked before the entry is written: a bomb of empty files is stopped at the cap.
    if (++stats.entries > options.max_entries) {
      return EntriesLimitError(options.max_entries);
    }
    auto written = writer.Write(tar.get(), entry);
    if (!written.ok()) {
      // A file's data is read inside Write: passing the cap there surfaces as a read error.
      return stream.over_limit ? BytesLimitError(stream.max_bytes) : written.error();
    }
  }
  CR_RETURN_IF_ERROR(writer.Finish());
  // The diff_id covers the whole uncompressed stream, including the padding after the tar's
  // end-of-archive blocks, which the tar reader does not consume.
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  // It counts towards the cap too: gigabytes of zeros after a tiny tar are still a bomb.
  while ((r = archive_read_data_block(raw.get(), &block, &size, &offset)) == ARCHIVE_OK) {
    if (!stream.Take(block, size)) {
      return BytesLimitError(stream.max_bytes);
    }
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
