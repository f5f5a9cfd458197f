#include "storage/layer_entry_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>

#include "common/files.h"
#include "common/log.h"
#include "storage/layer_path.h"

namespace cricket::storage {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string Join(const std::vector<std::string>& comps, const std::string& name) {
  std::string out;
  for (const std::string& c : comps) {
    out += c + "/";
  }
  return out + name;
}

Result<void> PwriteAll(int fd, const char* data, size_t size, int64_t offset,
                       const std::string& what) {
  while (size > 0) {
    ssize_t n = ::pwrite(fd, data, size, offset);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Error::FromErrno(errno, "write layer entry " + what);
    }
    data += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
  return Ok();
}

// Clears the way for a new entry: a later entry of the same name replaces an earlier one, except
// that an existing directory is kept when the new entry is a directory too.
Result<void> ReplaceExisting(int parent_fd, const std::string& name, bool keep_dir) {
  struct stat st {};
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) {
      return Ok();
    }
    return Error::FromErrno(errno, "stat " + name);
  }
  if (keep_dir && S_ISDIR(st.st_mode)) {
    return Ok();
  }
  return RemoveAllAt(parent_fd, name);
}

Error EntryReadError(archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return Error(Code::kDataLoss,
               "read layer entry " + what + ": " + (msg != nullptr ? msg : "unknown error"));
}

}  // namespace

Result<void> LayerEntryWriter::Write(archive* archive, archive_entry* entry) {
  const char* raw_name = archive_entry_pathname(entry);
  if (raw_name == nullptr) {
    return Error(Code::kInvalidArgument, "layer entry without a name");
  }
  std::string what = raw_name;
  CR_ASSIGN_OR_RETURN(std::vector<std::string> comps, SplitEntryPath(what));
  if (comps.empty()) {
    return Ok();  // the layer root itself: its attributes come from the snapshot, not the layer
  }
  std::string name = comps.back();
  comps.pop_back();
  CR_ASSIGN_OR_RETURN(UniqueFd parent, OpenDirInRoot(layer_fd_, comps, /*create=*/true, what));

  if (StartsWith(name, kWhiteoutPrefix)) {
    if (name == kOpaqueMarker) {
      std::string dir_path = comps.empty() ? "" : Join(comps, "");
      if (!dir_path.empty()) {
        dir_path.pop_back();
      }
      return WriteOpaque(parent.get(), dir_path, what);
    }
    if (StartsWith(name, kWhiteoutMetaPrefix)) {
      return Ok();  // other AUFS metadata (.wh..wh.plnk, .wh..wh.aufs) means nothing to overlayfs
    }
    return WriteWhiteout(parent.get(), name.substr(kWhiteoutPrefix.size()), what);
  }
  if (options_.whiteouts == WhiteoutMode::kApply) {
    NoteWritten(Join(comps, name));
  }
  if (archive_entry_hardlink(entry) != nullptr) {
    return WriteHardlink(parent.get(), name, entry);
  }
  switch (archive_entry_filetype(entry)) {
    case AE_IFDIR:
      return WriteDirectory(parent.get(), name, Join(comps, name), entry);
    case AE_IFREG:
      return WriteRegular(parent.get(), name, archive, entry);
    case AE_IFLNK:
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
      return WriteSpecial(parent.get(), name, entry);
    default:
      return Error(Code::kInvalidArgument, "layer entry \"" + what + "\" has an unsupported type");
  }
}

Result<void> LayerEntryWriter::WriteWhiteout(int parent_fd, const std::string& name,
                                             const std::string& what) {
  if (name.empty() || name == "." || name == "..") {
    return Error(Code::kInvalidArgument, "layer entry \"" + what + "\" is a malformed whiteout");
  }
  CR_RETURN_IF_ERROR(ReplaceExisting(parent_fd, name, /*keep_dir=*/false));
  if (options_.whiteouts == WhiteoutMode::kApply) {
    return Ok();  // the target is gone, which is all a whiteout asks for
  }
  // overlayfs: a 0/0 character device hides the same name in lower layers. Linux >= 5.8 lets
  // unprivileged users create exactly this device.
  if (::mknodat(parent_fd, name.c_str(), S_IFCHR | 0, makedev(0, 0)) < 0) {
    return Error::FromErrno(errno, "create whiteout for layer entry " + what);
  }
  return Ok();
}

void LayerEntryWriter::NoteWritten(const std::string& path) {
  for (size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    written_.insert(path.substr(0, slash));
  }
  written_.insert(path);
}

Result<void> LayerEntryWriter::WriteOpaque(int parent_fd, const std::string& dir_path,
                                           const std::string& what) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd dir(::openat(parent_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) {
    return Error::FromErrno(errno, "open directory of layer entry " + what);
  }
  if (options_.whiteouts == WhiteoutMode::kApply) {
    // Image-spec: an opaque whiteout hides the lower layers' children of the directory, not the
    // entries of its own layer (which may come before the marker in the stream).
    CR_ASSIGN_OR_RETURN(std::vector<std::string> children,
                        ListDirectory("/proc/self/fd/" + std::to_string(dir.get())));
    for (const std::string& child : children) {
      std::string child_path = dir_path.empty() ? child : dir_path + "/" + child;
      if (written_.count(child_path) == 0) {
        CR_RETURN_IF_ERROR(RemoveAllAt(dir.get(), child));
      }
    }
    return Ok();
  }
  std::string key = options_.overlay_xattr_prefix + "opaque";
  if (::fsetxattr(dir.get(), key.c_str(), "y", 1, 0) < 0) {
    return Error::FromErrno(errno, "mark directory opaque for layer entry " + what);
  }
  return Ok();
}

Result<void> LayerEntryWriter::WriteDirectory(int parent_fd, const std::string& name,
                                              const std::string& path, archive_entry* entry) {
  CR_RETURN_IF_ERROR(ReplaceExisting(parent_fd, name, /*keep_dir=*/true));
  if (::mkdirat(parent_fd, name.c_str(), 0700) < 0 && errno != EEXIST) {
    return Error::FromErrno(errno, "create directory " + path);
  }
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd fd(::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "open directory " + path);
  }
  CR_RETURN_IF_ERROR(ApplyMetadata(parent_fd, name, fd.get(), entry));
  DirTimes t{path, {}};
  t.times[1] = {archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)};
  t.times[0] = archive_entry_atime_is_set(entry) != 0
                   ? timespec{archive_entry_atime(entry), archive_entry_atime_nsec(entry)}
                   : t.times[1];
  dir_times_.push_back(std::move(t));
  return Ok();
}

Result<void> LayerEntryWriter::WriteRegular(int parent_fd, const std::string& name, archive* a,
                                            archive_entry* entry) {
  std::string what = archive_entry_pathname(entry);
  CR_RETURN_IF_ERROR(ReplaceExisting(parent_fd, name, /*keep_dir=*/false));
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd fd(::openat(parent_fd, name.c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "create layer entry " + what);
  }
  for (;;) {
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int r = archive_read_data_block(a, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) {
      break;
    }
    if (r != ARCHIVE_OK) {
      return EntryReadError(a, what);
    }
    CR_RETURN_IF_ERROR(PwriteAll(fd.get(), static_cast<const char*>(buf), size, offset, what));
  }
  if (archive_entry_size_is_set(entry) != 0 &&
      ::ftruncate(fd.get(), archive_entry_size(entry)) < 0) {
    return Error::FromErrno(errno, "size layer entry " + what);  // sparse files end in a hole
  }
  return ApplyMetadata(parent_fd, name, fd.get(), entry);
}

Result<void> LayerEntryWriter::WriteHardlink(int parent_fd, const std::string& name,
                                             archive_entry* entry) {
  std::string what = archive_entry_pathname(entry);
  std::string target = archive_entry_hardlink(entry);
  CR_ASSIGN_OR_RETURN(std::vector<std::string> tcomps, SplitEntryPath(target));
  if (tcomps.empty()) {
    return Error(Code::kInvalidArgument, "layer entry \"" + what + "\" links to the layer root");
  }
  std::string tname = tcomps.back();
  tcomps.pop_back();
  CR_ASSIGN_OR_RETURN(UniqueFd tparent, OpenDirInRoot(layer_fd_, tcomps, /*create=*/false, target));
  struct stat tst {};
  if (::fstatat(tparent.get(), tname.c_str(), &tst, AT_SYMLINK_NOFOLLOW) < 0) {
    return Error::FromErrno(errno, "hardlink " + what + " to " + target);
  }
  if (S_ISDIR(tst.st_mode)) {
    return Error(Code::kInvalidArgument, "layer entry \"" + what + "\" hardlinks a directory");
  }
  struct stat st {};
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      st.st_ino == tst.st_ino && st.st_dev == tst.st_dev) {
    return Ok();  // already the same file
  }
  CR_RETURN_IF_ERROR(ReplaceExisting(parent_fd, name, /*keep_dir=*/false));
  // linkat without AT_SYMLINK_FOLLOW links a symlink itself, never what it points to.
  if (::linkat(tparent.get(), tname.c_str(), parent_fd, name.c_str(), 0) < 0) {
    return Error::FromErrno(errno, "hardlink " + what + " to " + target);
  }
  return Ok();
}

Result<void> LayerEntryWriter::WriteSpecial(int parent_fd, const std::string& name,
                                            archive_entry* entry) {
  std::string what = archive_entry_pathname(entry);
  mode_t type = archive_entry_filetype(entry);
  if ((type == AE_IFCHR || type == AE_IFBLK) && !options_.privileged) {
    log::Debug({}, "skipping device node {}: unprivileged unpack", what);
    return Ok();
  }
  CR_RETURN_IF_ERROR(ReplaceExisting(parent_fd, name, /*keep_dir=*/false));
  if (type == AE_IFLNK) {
    const char* target = archive_entry_symlink(entry);
    if (target == nullptr || ::symlinkat(target, parent_fd, name.c_str()) < 0) {
      return Error::FromErrno(target == nullptr ? EINVAL : errno, "create symlink " + what);
    }
  } else if (::mknodat(parent_fd, name.c_str(), type | 0600, archive_entry_rdev(entry)) < 0) {
    return Error::FromErrno(errno, "create node " + what);
  }
  return ApplyMetadata(parent_fd, name, -1, entry);
}

Result<void> LayerEntryWriter::ApplyMetadata(int parent_fd, const std::string& name, int fd,
                                             archive_entry* entry) {
  std::string what = archive_entry_pathname(entry);
  bool is_link = archive_entry_filetype(entry) == AE_IFLNK;
  if (options_.privileged &&
      ::fchownat(parent_fd, name.c_str(), static_cast<uid_t>(archive_entry_uid(entry)),
                 static_cast<gid_t>(archive_entry_gid(entry)), AT_SYMLINK_NOFOLLOW) < 0) {
    return Error::FromErrno(errno, "chown layer entry " + what);
  }
  // After chown, which clears set-id bits. Never on a symlink (fchmodat would follow it).
  if (!is_link) {
    mode_t perm = archive_entry_perm(entry) & 07777;
    int rc = fd >= 0 ? ::fchmod(fd, perm) : ::fchmodat(parent_fd, name.c_str(), perm, 0);
    if (rc < 0) {
      return Error::FromErrno(errno, "chmod layer entry " + what);
    }
  }
  if (fd >= 0) {
    CR_RETURN_IF_ERROR(ApplyXattrs(fd, entry, what));
  }
  if (archive_entry_filetype(entry) == AE_IFDIR) {
    return Ok();  // directory times are set in Finish(), after their children
  }
  timespec times[2];
  times[1] = {archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)};
  times[0] = archive_entry_atime_is_set(entry) != 0
                 ? timespec{archive_entry_atime(entry), archive_entry_atime_nsec(entry)}
                 : times[1];
  if (::utimensat(parent_fd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) {
    return Error::FromErrno(errno, "set times of layer entry " + what);
  }
  return Ok();
}

Result<void> LayerEntryWriter::ApplyXattrs(int fd, archive_entry* entry, const std::string& what) {
  archive_entry_xattr_reset(entry);
  const char* key = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(entry, &key, &value, &size) == ARCHIVE_OK) {
    std::string_view k = key;
    // A layer must not forge overlayfs metadata (opaque, redirect, metacopy): only whiteout
    // entries produce it.
    if (StartsWith(k, "trusted.overlay.") || StartsWith(k, "user.overlay.")) {
      continue;
    }
    bool needs_privilege = StartsWith(k, "trusted.") || StartsWith(k, "security.");
    if (needs_privilege && !options_.privileged) {
      continue;
    }
    if (::fsetxattr(fd, key, value, size, 0) < 0) {
      if (errno == ENOTSUP) {
        log::Warn({}, "layer entry {}: filesystem does not support xattr {}", what, key);
        continue;
      }
      return Error::FromErrno(errno, "set xattr " + std::string(k) + " on layer entry " + what);
    }
  }
  return Ok();
}

Result<void> LayerEntryWriter::Finish() {
  // In stream order, so a later entry for the same directory wins. Setting a child's times does
  // not touch its parent's.
  for (const DirTimes& d : dir_times_) {
    auto fd = OpenInRoot(layer_fd_, d.path, O_RDONLY | O_DIRECTORY, d.path);
    if (!fd.ok() && (fd.error().sys_errno() == ENOTDIR || fd.error().sys_errno() == ENOENT)) {
      continue;  // a later entry replaced or removed the directory
    }
    if (!fd.ok()) {
      return std::move(fd).error();
    }
    if (::futimens(fd->get(), d.times) < 0) {
      return Error::FromErrno(errno, "set times of layer directory " + d.path);
    }
  }
  dir_times_.clear();
  return Ok();
}

}  // namespace cricket::storage
