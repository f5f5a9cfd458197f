#include "storage/dir_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "common/unique_fd.h"
#include "storage/libarchive_ptr.h"

namespace cricket::storage {
namespace {

Error ArchiveError(archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return Error(Code::kInternal, what + ": " + (msg != nullptr ? msg : "libarchive error"));
}

Result<void> CopyData(archive* a, const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));  // NOLINT
  if (!fd.valid()) {
    return Error::FromErrno(errno, "open " + path);
  }
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      return Error::FromErrno(errno, "read " + path);
    }
    if (n == 0) {
      return Ok();
    }
    if (archive_write_data(a, buf, static_cast<size_t>(n)) != n) {
      return ArchiveError(a, "pack " + path);
    }
  }
}

Result<void> PackEntry(archive* a, const std::filesystem::path& root,
                       const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) < 0) {
    return Error::FromErrno(errno, "stat " + path.string());
  }
  ArchiveEntryPtr entry(archive_entry_new());
  archive_entry_copy_stat(entry.get(), &st);
  archive_entry_set_pathname(entry.get(), path.lexically_relative(root).c_str());
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(path, ec);
    if (ec) {
      return Error::FromErrno(ec.value(), "read link " + path.string());
    }
    archive_entry_set_symlink(entry.get(), target.c_str());
  }
  if (!S_ISREG(st.st_mode)) {
    archive_entry_set_size(entry.get(), 0);
  }
  if (archive_write_header(a, entry.get()) != ARCHIVE_OK) {
    return ArchiveError(a, "pack " + path.string());
  }
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    CR_RETURN_IF_ERROR(CopyData(a, path.string()));
  }
  return Ok();
}

}  // namespace

Result<void> PackDirectory(const std::string& dir, int out_fd) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Error(Code::kNotFound, "pack " + dir + ": not a directory");
  }
  ArchiveWriter a(archive_write_new());
  archive_write_set_format_pax_restricted(a.get());
  if (archive_write_open_fd(a.get(), out_fd) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "open archive for " + dir);
  }
  const std::filesystem::path root(dir);
  auto it = std::filesystem::recursive_directory_iterator(root, ec);
  for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    CR_RETURN_IF_ERROR(PackEntry(a.get(), root, it->path()));
  }
  if (ec) {
    return Error::FromErrno(ec.value(), "walk " + dir);
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "finish archive of " + dir);
  }
  return Ok();
}

}  // namespace cricket::storage
