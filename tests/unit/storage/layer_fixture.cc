#include "tests/unit/storage/layer_fixture.h"

#include <archive.h>
#include <archive_entry.h>

#include <gtest/gtest.h>

namespace cricket::storage::testing {
namespace {

la_ssize_t Append(archive* /*a*/, void* opaque, const void* buf, size_t size) {
  static_cast<std::string*>(opaque)->append(static_cast<const char*>(buf), size);
  return static_cast<la_ssize_t>(size);
}

}  // namespace

TarEntry File(std::string path, std::string data, unsigned perm) {
  TarEntry e;
  e.path = std::move(path);
  e.data = std::move(data);
  e.perm = perm;
  return e;
}

TarEntry Dir(std::string path, unsigned perm) {
  TarEntry e;
  e.path = std::move(path);
  e.type = AE_IFDIR;
  e.perm = perm;
  return e;
}

TarEntry Symlink(std::string path, std::string target) {
  TarEntry e;
  e.path = std::move(path);
  e.type = AE_IFLNK;
  e.perm = 0777;
  e.symlink = std::move(target);
  return e;
}

TarEntry Hardlink(std::string path, std::string target) {
  TarEntry e;
  e.path = std::move(path);
  e.hardlink = std::move(target);
  return e;
}

std::string BuildLayer(const std::vector<TarEntry>& entries, Compression compression) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (compression == Compression::kGzip) {
    archive_write_add_filter_gzip(a);
  } else if (compression == Compression::kZstd) {
    archive_write_add_filter_zstd(a);
  }
  archive_write_set_bytes_in_last_block(a, 1);
  if (archive_write_open(a, &out, nullptr, Append, nullptr) != ARCHIVE_OK) {
    ADD_FAILURE() << "archive_write_open: " << archive_error_string(a);
    archive_write_free(a);
    return "";
  }
  for (const TarEntry& t : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.path.c_str());
    archive_entry_set_perm(e, t.perm);
    archive_entry_set_uid(e, t.uid);
    archive_entry_set_gid(e, t.gid);
    archive_entry_set_mtime(e, t.mtime, 0);
    for (const auto& [k, v] : t.xattrs) {
      archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
    }
    if (!t.hardlink.empty()) {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_hardlink(e, t.hardlink.c_str());
      archive_entry_set_size(e, 0);
    } else {
      archive_entry_set_filetype(e, t.type);
      if (t.type == AE_IFLNK) {
        archive_entry_set_symlink(e, t.symlink.c_str());
      }
      if (t.type == AE_IFCHR || t.type == AE_IFBLK) {
        archive_entry_set_rdev(e, t.rdev);
      }
      archive_entry_set_size(e, t.type == AE_IFREG ? static_cast<la_int64_t>(t.data.size()) : 0);
    }
    if (archive_write_header(a, e) != ARCHIVE_OK) {
      ADD_FAILURE() << "archive_write_header " << t.path << ": " << archive_error_string(a);
    }
    if (t.hardlink.empty() && t.type == AE_IFREG && !t.data.empty()) {
      archive_write_data(a, t.data.data(), t.data.size());
    }
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

std::string Compress(const std::string& plain, Compression compression) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_raw(a);
  if (compression == Compression::kGzip) {
    archive_write_add_filter_gzip(a);
  } else if (compression == Compression::kZstd) {
    archive_write_add_filter_zstd(a);
  }
  archive_write_set_bytes_in_last_block(a, 1);
  if (archive_write_open(a, &out, nullptr, Append, nullptr) != ARCHIVE_OK) {
    ADD_FAILURE() << "archive_write_open: " << archive_error_string(a);
    archive_write_free(a);
    return "";
  }
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "raw");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_size(e, static_cast<la_int64_t>(plain.size()));
  if (archive_write_header(a, e) != ARCHIVE_OK ||
      archive_write_data(a, plain.data(), plain.size()) != static_cast<la_ssize_t>(plain.size())) {
    ADD_FAILURE() << "compress: " << archive_error_string(a);
  }
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

}  // namespace cricket::storage::testing
