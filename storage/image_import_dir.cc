#include "storage/image_import_dir.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/log.h"
#include "common/unique_fd.h"

namespace cricket::storage {

using Json = nlohmann::json;

namespace {

struct Seen {
  int64_t size = 0;
  int64_t mtime_ns = 0;
  std::vector<std::string> ids;
};

Json LoadState(const std::string& path) {
  auto body = ReadFile(path);
  if (!body.ok()) {
    return Json::object();
  }
  Json j = Json::parse(*body, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : Json::object();  // a damaged record only costs a re-import
}

bool Unchanged(const Json& state, const std::string& name, const struct stat& st,
               const ImageStore& store, std::vector<std::string>& ids) {
  auto it = state.find(name);
  if (it == state.end() || !it->is_object() || it->value("size", int64_t{-1}) != st.st_size ||
      it->value("mtime_ns", int64_t{-1}) !=
          int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec) {
    return false;
  }
  auto recorded = it->value("ids", Json::array());
  ids.clear();
  for (const Json& id : recorded) {
    if (!id.is_string() || !store.Status(id.get<std::string>()).ok()) {
      return false;  // removed since: import again
    }
    ids.push_back(id.get<std::string>());
  }
  return !ids.empty();
}

Result<std::vector<Image>> ImportFile(ImageStore& store, const std::string& path) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "open " + path);
  }
  return store.Import(FdByteSource(fd.get()));
}

std::string Names(const std::vector<Image>& images) {
  std::string out;
  for (const Image& image : images) {
    std::string name = image.repo_tags.empty() ? image.id : image.repo_tags.front();
    out += out.empty() ? name : ", " + name;
  }
  return out;
}

}  // namespace

DirImportSummary ImportDirectory(ImageStore& store, const std::string& root, bool pin) {
  DirImportSummary summary;
  std::error_code ec;
  std::filesystem::remove_all(root + "/import-tmp", ec);  // a crashed import's staging
  const std::string dir = root + "/images-import";
  auto names = ListDirectory(dir);
  if (!names.ok()) {
    if (names.error().code() != Code::kNotFound) {
      log::Warn({}, "images-import not read: {}", names.error().message());
    }
    return summary;
  }
  std::sort(names->begin(), names->end());
  const std::string state_path = root + "/images-import.json";
  Json state = LoadState(state_path);
  Json next = Json::object();
  for (const std::string& name : *names) {
    const std::string path = dir + "/" + name;
    struct stat st {};
    if (name.starts_with(".") || ::stat(path.c_str(), &st) < 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    std::vector<std::string> ids;
    if (Unchanged(state, name, st, store, ids)) {
      ++summary.unchanged;
    } else {
      auto imported = ImportFile(store, path);
      if (!imported.ok()) {
        log::Warn({}, "images-import: skipped {}: {}", path, imported.error().ToString());
        ++summary.failed;
        continue;
      }
      for (const Image& image : *imported) {
        ids.push_back(image.id);
      }
      log::Info({}, "images-import: imported {}: {}", path, Names(*imported));
      ++summary.imported;
    }
    next[name] = {{"size", st.st_size},
                  {"mtime_ns", int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec},
                  {"ids", ids}};
    if (pin) {
      store.PinIds(ids);
    }
  }
  if (auto saved = WriteFileAtomic(state_path, next.dump(), 0600); !saved.ok()) {
    log::Warn({}, "images-import: record not saved (next start imports again): {}",
              saved.error().message());
  }
  return summary;
}

}  // namespace cricket::storage
