#include "storage/image_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <vector>

#include "common/files.h"
#include "common/unique_fd.h"
#include "storage/digest.h"
#include "storage/layer_path.h"
#include "storage/libarchive_ptr.h"

namespace cricket::storage {
namespace {

constexpr size_t kArchiveBlockBytes = 256 * 1024;
// Links may name links; a loop stops here.
constexpr int kMaxLinkHops = 8;

// libarchive pulls the stream through this; the source's error is kept to report as it was.
struct SourceState {
  const ByteSource* source = nullptr;
  std::optional<Error> error;
};

la_ssize_t ReadSource(archive* a, void* opaque, const void** buf) {
  auto* s = static_cast<SourceState*>(opaque);
  auto chunk = (*s->source)();
  if (!chunk.ok()) {
    s->error = chunk.error();
    archive_set_error(a, EIO, "%s", chunk.error().message().c_str());
    return -1;
  }
  *buf = chunk->data();
  return static_cast<la_ssize_t>(chunk->size());
}

Error ReadError(archive* a, const SourceState& s, const std::string& where) {
  if (s.error.has_value()) {
    return *s.error;
  }
  const char* msg = archive_error_string(a);
  return Error(Code::kInvalidArgument, "archive is truncated or not a tar archive (" + where +
                                           "): " + (msg != nullptr ? msg : "unknown error"));
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    out += out.empty() ? p : "/" + p;
  }
  return out;
}

// The clean archive name a symlink at `name` pointing to `target` designates, or an error when
// it is absolute or climbs out of the archive.
Result<std::string> ResolveSymlink(const std::string& name, const std::string& target) {
  if (target.empty() || target.front() == '/') {
    return Error(Code::kInvalidArgument,
                 "archive entry " + name + ": symlink to \"" + target + "\" leaves the archive");
  }
  std::vector<std::string> parts = *SplitEntryPath(name);
  parts.pop_back();
  size_t start = 0;
  while (start <= target.size()) {
    size_t end = target.find('/', start);
    std::string part = target.substr(start, end == std::string::npos ? end : end - start);
    if (part == "..") {
      if (parts.empty()) {
        return Error(Code::kInvalidArgument, "archive entry " + name + ": symlink to \"" + target +
                                                 "\" leaves the archive");
      }
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    if (end == std::string::npos) {
      break;
    }
    start = end + 1;
  }
  return Join(parts);
}

// Copies the current entry's data into `path`, hashing it.
Result<StagedFile> CopyEntry(archive* a, const SourceState& s, const std::string& name,
                             const std::string& path) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "create staging file " + path);
  }
  StagedFile file{path, "", 0};
  Sha256 hash;
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  for (;;) {
    int r = archive_read_data_block(a, &block, &size, &offset);
    if (r == ARCHIVE_EOF) {
      break;
    }
    if (r != ARCHIVE_OK) {
      return ReadError(a, s, "entry " + name);
    }
    if (offset != file.size) {
      return Error(Code::kInvalidArgument, "archive entry " + name + " is sparse");
    }
    std::string_view data(static_cast<const char*>(block), size);
    hash.Update(data);
    CR_RETURN_IF_ERROR(WriteAll(fd.get(), data, path));
    file.size += static_cast<int64_t>(size);
  }
  file.digest = hash.Final();
  return file;
}

}  // namespace

ByteSource FdByteSource(int fd) {
  auto buffer = std::make_shared<std::string>(kArchiveBlockBytes, '\0');
  return [fd, buffer]() -> Result<std::string_view> {
    for (;;) {
      ssize_t n = ::read(fd, buffer->data(), buffer->size());
      if (n >= 0) {
        return std::string_view(buffer->data(), static_cast<size_t>(n));
      }
      if (errno != EINTR) {
        return Error::FromErrno(errno, "read archive");
      }
    }
  };
}

ByteSink FdByteSink(int fd, std::string what) {
  return [fd, what = std::move(what)](std::string_view data) { return WriteAll(fd, data, what); };
}

const StagedFile* StagedArchive::Find(const std::string& name) const {
  auto it = files.find(name);
  return it == files.end() ? nullptr : &it->second;
}

Result<std::string> StagedArchive::Read(const std::string& name, int64_t max_bytes) const {
  const StagedFile* file = Find(name);
  if (file == nullptr) {
    return Error(Code::kInvalidArgument, "archive has no " + name);
  }
  if (file->size > max_bytes) {
    return Error(Code::kResourceExhausted, "archive file " + name + " is larger than " +
                                               std::to_string(max_bytes) + " bytes");
  }
  return ReadFile(file->path);
}

Result<StagedArchive> StageArchive(const ByteSource& source, const std::string& dir,
                                   const StageLimits& limits) {
  ArchiveReader a(archive_read_new());
  if (a == nullptr) {
    return Error(Code::kResourceExhausted, "allocate archive reader");
  }
  // k3s and containerd accept compressed archives too (images.tar.gz, .tar.zst).
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  SourceState state{&source, std::nullopt};
  if (archive_read_open(a.get(), &state, nullptr, ReadSource, nullptr) != ARCHIVE_OK) {
    return ReadError(a.get(), state, "open");
  }
  StagedArchive staged;
  staged.dir = dir;
  std::map<std::string, std::string> links;  // clean name -> clean target name
  int64_t entries = 0;
  for (;;) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) {
      break;
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return ReadError(a.get(), state, "after " + std::to_string(entries) + " entries");
    }
    if (++entries > limits.max_entries) {
      return Error(Code::kResourceExhausted,
                   "archive has more than " + std::to_string(limits.max_entries) + " entries");
    }
    const char* raw_name = archive_entry_pathname(entry);
    std::string raw = raw_name != nullptr ? raw_name : "";
    CR_ASSIGN_OR_RETURN(std::vector<std::string> parts, SplitEntryPath(raw));
    std::string name = Join(parts);
    if (const char* hard = archive_entry_hardlink(entry); hard != nullptr) {
      auto target = SplitEntryPath(hard);
      if (!target.ok()) {
        return target.error().Wrap("archive entry " + raw + ": hard link");
      }
      links[name] = Join(*target);
      continue;
    }
    mode_t type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) {
      continue;
    }
    if (parts.empty()) {
      return Error(Code::kInvalidArgument, "archive entry \"" + raw + "\" has no name");
    }
    if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(entry);
      CR_ASSIGN_OR_RETURN(links[name], ResolveSymlink(name, target != nullptr ? target : ""));
      continue;
    }
    if (type != AE_IFREG) {
      return Error(Code::kInvalidArgument,
                   "archive entry " + raw + " is neither a file, a directory nor a link");
    }
    if (staged.files.count(name) > 0) {
      return Error(Code::kInvalidArgument, "archive entry " + raw + " appears twice");
    }
    std::string path = dir + "/" + std::to_string(entries);
    CR_ASSIGN_OR_RETURN(staged.files[name], CopyEntry(a.get(), state, raw, path));
  }
  for (const auto& [name, first] : links) {
    std::string target = first;
    int hops = 0;
    while (links.count(target) > 0 && ++hops < kMaxLinkHops) {
      target = links.at(target);
    }
    const StagedFile* file = staged.Find(target);
    if (file == nullptr) {
      return Error(Code::kInvalidArgument,
                   "archive entry " + name + " links to " + first + ", which is not a file in it");
    }
    staged.files[name] = *file;
  }
  return staged;
}

}  // namespace cricket::storage
