#include "cri/config_dropins.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "common/files.h"
#include "common/toml_section.h"
#include "cri/config.h"

namespace cricket::cri {

std::string DropInDirFor(std::string_view config_path) {
  constexpr std::string_view kSuffix = ".toml";
  std::string_view stem = config_path;
  // "/x/.toml" is a file named ".toml", not an empty name with the suffix.
  if (stem.ends_with(kSuffix) && stem.size() > kSuffix.size() &&
      stem[stem.size() - kSuffix.size() - 1] != '/') {
    stem.remove_suffix(kSuffix.size());
  }
  return std::string(stem) + ".d";
}

Result<std::vector<std::string>> ListDropIns(const std::string& dir) {
  std::vector<std::string> files;
  if (dir.empty()) {
    return files;
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) < 0) {
    if (errno == ENOENT) {
      return files;  // no drop-ins, like a missing /etc/crio/crio.conf.d
    }
    return Error::FromErrno(errno, "config drop-in directory " + dir);
  }
  if (!S_ISDIR(st.st_mode)) {
    return Error(Code::kInvalidArgument, "config drop-in directory " + dir + " is not a directory");
  }
  CR_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(dir));
  std::sort(names.begin(), names.end());  // byte order, like ls under LC_ALL=C
  for (const std::string& name : names) {
    if (name.starts_with(".") || !name.ends_with(".toml")) {
      continue;
    }
    std::string path = dir + "/" + name;
    // stat, not lstat: a symlink to a file is a drop-in (a common way to enable one); a
    // dangling one is skipped.
    if (::stat(path.c_str(), &st) < 0) {
      if (errno == ENOENT) {
        continue;
      }
      return Error::FromErrno(errno, "config drop-in " + path);
    }
    if (S_ISREG(st.st_mode)) {
      files.push_back(std::move(path));
    }
  }
  return files;
}

void MergeTomlTables(toml::table& base, toml::table&& overlay) {
  for (auto&& [key, node] : overlay) {
    toml::table* from = node.as_table();
    toml::table* into = base[key.str()].as_table();
    if (from != nullptr && into != nullptr) {
      MergeTomlTables(*into, std::move(*from));
    } else {
      base.insert_or_assign(key, std::move(node));
    }
  }
}

Result<toml::table> ReadTomlFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    return text.error().Wrap("read config");
  }
  return ParseToml(*text, path);
}

Result<toml::table> LoadConfigFiles(bool main_required, ConfigSources& sources) {
  toml::table merged;
  auto main = ReadTomlFile(sources.main_path);
  if (main.ok()) {
    sources.main_found = true;
    // Each file is checked on its own first, so an unknown key or a bad value is reported
    // with the file it is in; the merged document is applied afterwards.
    Config scratch;
    CR_RETURN_IF_ERROR(ApplyConfigTable(*main, sources.main_path, scratch));
    merged = std::move(main).value();
  } else if (main_required || main.error().code() != Code::kNotFound) {
    return std::move(main).error();
  }
  CR_ASSIGN_OR_RETURN(sources.dropins, ListDropIns(sources.dropin_dir));
  for (const std::string& path : sources.dropins) {
    CR_ASSIGN_OR_RETURN(toml::table table, ReadTomlFile(path));
    Config scratch;
    CR_RETURN_IF_ERROR(ApplyConfigTable(table, path, scratch));
    MergeTomlTables(merged, std::move(table));
  }
  return merged;
}

}  // namespace cricket::cri
