#include "storage/volumes/snapshots/volume_index.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/files.h"
#include "common/unique_fd.h"
#include "storage/digest.h"
#include "storage/layer_path.h"

namespace cricket::storage::volumes {

using Json = nlohmann::json;

namespace {

constexpr int kIndexVersion = 1;
constexpr int kMaxDepth = 1024;
constexpr size_t kHashBytes = 256 * 1024;

// False for sockets (a tar layer cannot carry them).
bool FillEntry(const struct stat& st, IndexEntry& e) {
  switch (st.st_mode & S_IFMT) {
    case S_IFREG: e.type = EntryType::kFile; break;
    case S_IFDIR: e.type = EntryType::kDir; break;
    case S_IFLNK: e.type = EntryType::kSymlink; break;
    case S_IFIFO: e.type = EntryType::kFifo; break;
    case S_IFCHR: e.type = EntryType::kCharDevice; break;
    case S_IFBLK: e.type = EntryType::kBlockDevice; break;
    default: return false;
  }
  e.mode = st.st_mode & 07777;
  e.uid = st.st_uid;
  e.gid = st.st_gid;
  e.size = e.type == EntryType::kDir ? 0 : static_cast<int64_t>(st.st_size);
  e.mtime_ns = TimespecNanos(st.st_mtim);
  e.ctime_ns = TimespecNanos(st.st_ctim);
  e.dev = st.st_dev;
  e.ino = st.st_ino;
  e.nlink = st.st_nlink;
  e.rdev = st.st_rdev;
  return true;
}

Result<std::vector<std::string>> SortedNames(int dir_fd, const std::string& what) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Error::FromErrno(errno, "open directory " + what);
  }
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    ::close(fd);
    return Error::FromErrno(errno, "read directory " + what);
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") {
      names.push_back(std::move(name));
    }
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) {
    return Error::FromErrno(err, "read directory " + what);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<void> ScanDir(int dir_fd, const std::string& prefix, int depth,
                     std::vector<IndexEntry>& out) {
  if (depth > kMaxDepth) {
    return Error(Code::kResourceExhausted, "scan volume: directory tree too deep at " + prefix);
  }
  CR_ASSIGN_OR_RETURN(std::vector<std::string> names,
                      SortedNames(dir_fd, prefix.empty() ? "." : prefix));
  for (const std::string& name : names) {
    std::string path = prefix.empty() ? name : prefix + "/" + name;
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT) {
        continue;  // removed by a writer while we scan: it is simply not in this snapshot
      }
      return Error::FromErrno(errno, "stat volume entry " + path);
    }
    IndexEntry e;
    e.path = path;
    if (!FillEntry(st, e)) {
      continue;
    }
    if (e.type == EntryType::kSymlink) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
      if (n < 0) {
        if (errno == ENOENT) {
          continue;
        }
        return Error::FromErrno(errno, "read symlink " + path);
      }
      target.resize(static_cast<size_t>(n));
      e.link_target = std::move(target);
    }
    bool is_dir = e.type == EntryType::kDir;
    out.push_back(std::move(e));
    if (is_dir) {
      // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
      UniqueFd child(::openat(dir_fd, name.c_str(),
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!child.valid()) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) {
          continue;  // replaced while we scan; the next snapshot sees what it became
        }
        return Error::FromErrno(errno, "open volume directory " + path);
      }
      CR_RETURN_IF_ERROR(ScanDir(child.get(), path, depth + 1, out));
    }
  }
  return Ok();
}

Json EntryToJson(const IndexEntry& e) {
  return Json::array({e.path, std::string(1, static_cast<char>(e.type)), e.mode, e.uid, e.gid,
                      e.size, e.mtime_ns, e.ctime_ns, e.dev, e.ino, e.nlink, e.rdev,
                      e.link_target, e.hash, e.dirty});
}

bool IsType(char c) {
  return c == 'f' || c == 'd' || c == 'l' || c == 'p' || c == 'c' || c == 'b';
}

bool EntryFromJson(const Json& j, IndexEntry& e) {
  if (!j.is_array() || j.size() != 15 || !j[0].is_string() || !j[1].is_string() ||
      !j[12].is_string() || !j[13].is_string() || !j[14].is_boolean()) {
    return false;
  }
  for (size_t i = 2; i <= 11; ++i) {
    if (!j[i].is_number_integer()) {
      return false;
    }
  }
  std::string type = j[1].get<std::string>();
  if (type.size() != 1 || !IsType(type[0])) {
    return false;
  }
  e.path = j[0].get<std::string>();
  e.type = static_cast<EntryType>(type[0]);
  e.mode = j[2].get<uint32_t>();
  e.uid = j[3].get<uint32_t>();
  e.gid = j[4].get<uint32_t>();
  e.size = j[5].get<int64_t>();
  e.mtime_ns = j[6].get<int64_t>();
  e.ctime_ns = j[7].get<int64_t>();
  e.dev = j[8].get<uint64_t>();
  e.ino = j[9].get<uint64_t>();
  e.nlink = j[10].get<uint64_t>();
  e.rdev = j[11].get<uint64_t>();
  e.link_target = j[12].get<std::string>();
  e.hash = j[13].get<std::string>();
  e.dirty = j[14].get<bool>();
  return !e.path.empty();
}

int64_t IntOr(const Json& j, const char* key, int64_t fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

std::string StrOr(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

Result<ScanResult> ScanVolume(const std::string& volume_dir) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd root(::open(volume_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) {
    return Error::FromErrno(errno, "open volume directory " + volume_dir);
  }
  struct stat st {};
  if (::fstat(root.get(), &st) < 0) {
    return Error::FromErrno(errno, "stat volume directory " + volume_dir);
  }
  ScanResult out;
  out.root = {st.st_mode & 07777, st.st_uid, st.st_gid, TimespecNanos(st.st_mtim)};
  auto r = ScanDir(root.get(), "", 0, out.entries);
  if (!r.ok()) {
    return r.error().Wrap("scan volume " + volume_dir);
  }
  return out;
}

Result<std::string> HashVolumeFile(int volume_fd, const IndexEntry& entry) {
  CR_ASSIGN_OR_RETURN(UniqueFd fd, OpenInRoot(volume_fd, entry.path,
                                              O_RDONLY | O_NOFOLLOW | O_NONBLOCK, entry.path));
  Sha256 hash;
  std::string buf(kHashBytes, '\0');
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Error::FromErrno(errno, "read volume file " + entry.path);
    }
    if (n == 0) {
      return hash.Final();
    }
    hash.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
}

Result<VolumeIndex> LoadIndex(const std::string& path) {
  CR_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  Error bad(Code::kDataLoss, "volume index " + path + " is malformed");
  if (!j.is_object() || IntOr(j, "version", 0) != kIndexVersion) {
    return bad;
  }
  VolumeIndex index;
  index.manifest_digest = StrOr(j, "manifest");
  index.scan_time_ns = IntOr(j, "scan_time_ns", 0);
  auto root = j.find("root");
  if (root == j.end() || !root->is_object()) {
    return bad;
  }
  index.root = {static_cast<uint32_t>(IntOr(*root, "mode", 0755)),
                static_cast<uint32_t>(IntOr(*root, "uid", 0)),
                static_cast<uint32_t>(IntOr(*root, "gid", 0)), IntOr(*root, "mtime_ns", 0)};
  auto layers = j.find("layers");
  auto diff_ids = j.find("diff_ids");
  auto entries = j.find("entries");
  if (layers == j.end() || !layers->is_array() || diff_ids == j.end() || !diff_ids->is_array() ||
      entries == j.end() || !entries->is_array() || layers->size() != diff_ids->size()) {
    return bad;
  }
  for (size_t i = 0; i < layers->size(); ++i) {
    const Json& l = (*layers)[i];
    if (!l.is_object() || !(*diff_ids)[i].is_string()) {
      return bad;
    }
    index.layers.push_back({StrOr(l, "mediaType"), StrOr(l, "digest"), IntOr(l, "size", -1), {}});
    index.diff_ids.push_back((*diff_ids)[i].get<std::string>());
  }
  index.entries.reserve(entries->size());
  for (const Json& e : *entries) {
    IndexEntry entry;
    if (!EntryFromJson(e, entry)) {
      return bad;
    }
    index.entries.push_back(std::move(entry));
  }
  return index;
}

Result<void> SaveIndex(const std::string& path, const VolumeIndex& index) {
  Json layers = Json::array();
  for (const Descriptor& l : index.layers) {
    layers.push_back({{"mediaType", l.media_type}, {"digest", l.digest}, {"size", l.size}});
  }
  Json entries = Json::array();
  for (const IndexEntry& e : index.entries) {
    entries.push_back(EntryToJson(e));
  }
  Json j = {{"version", kIndexVersion},
            {"manifest", index.manifest_digest},
            {"scan_time_ns", index.scan_time_ns},
            {"root",
             {{"mode", index.root.mode},
              {"uid", index.root.uid},
              {"gid", index.root.gid},
              {"mtime_ns", index.root.mtime_ns}}},
            {"layers", std::move(layers)},
            {"diff_ids", index.diff_ids},
            {"entries", std::move(entries)}};
  // Paths are bytes, not necessarily UTF-8: replace rather than throw on invalid sequences.
  return WriteFileAtomic(path, j.dump(-1, ' ', false, Json::error_handler_t::replace), 0600);
}

}  // namespace cricket::storage::volumes
