#include "oci/cgroup_fs.h"

#include <fcntl.h>

#include <algorithm>

#include "common/files.h"
#include "common/text.h"

namespace cricket::oci::cgroupfs {
namespace {

// The file's text, or "" when it does not exist: a cgroup or controller that is not there
// reads as empty, which each reader below turns into its zero value.
Result<std::string> ReadIfPresent(const std::string& file) {
  auto text = ReadFile(file);
  if (!text.ok() && text.error().code() == Code::kNotFound) {
    return std::string();
  }
  return text;
}

}  // namespace

Result<void> WriteControl(Syscalls& sys, const std::string& dir, const std::string& file,
                          const std::string& value) {
  std::string path = dir + "/" + file;
  auto fd = sys.Open(path, O_WRONLY | O_TRUNC, 0);
  if (!fd.ok()) {
    return fd.error().Wrap("write " + value + " to " + file);
  }
  auto written = sys.Write(fd->get(), value);
  if (!written.ok()) {
    return Error(written.error().code(),
                 "write " + value + " to " + path + ": " + written.error().message(),
                 written.error().sys_errno());
  }
  return Ok();
}

Result<void> MakeChain(Syscalls& sys, const std::string& root, const std::string& path,
                       std::vector<std::string>& created) {
  std::string current = root;
  for (const std::string& part : Split(path, '/')) {
    if (part.empty()) {
      continue;
    }
    current += "/" + part;
    auto made = sys.Mkdir(current, 0755);
    if (made.ok()) {
      created.push_back(current);
    } else if (made.error().code() != Code::kAlreadyExists) {
      return made.error();
    }
  }
  return Ok();
}

Result<void> RemoveDirs(Syscalls& sys, const std::vector<std::string>& dirs) {
  Result<void> first = Ok();
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    auto removed = sys.Rmdir(*it);
    if (!removed.ok() && removed.error().code() != Code::kNotFound && first.ok()) {
      first = removed.error();
    }
  }
  return first;
}

Result<std::vector<pid_t>> ReadProcs(const std::string& dir) {
  std::vector<pid_t> pids;
  CR_ASSIGN_OR_RETURN(std::string text, ReadIfPresent(dir + "/cgroup.procs"));
  for (std::string_view word : Words(text)) {
    auto pid = ParseUint64(word);
    if (!pid) {
      break;
    }
    pids.push_back(static_cast<pid_t>(*pid));
  }
  return pids;
}

Result<uint64_t> ReadNumber(const std::string& file) {
  CR_ASSIGN_OR_RETURN(std::string text, ReadIfPresent(file));
  auto words = Words(text);
  return words.empty() ? uint64_t{0} : ParseUint64(words[0]).value_or(0);  // "max" is 0
}

Result<uint64_t> ReadKeyedValue(const std::string& file, const std::string& key) {
  CR_ASSIGN_OR_RETURN(std::string text, ReadIfPresent(file));
  auto words = Words(text);
  for (size_t i = 0; i + 1 < words.size(); i += 2) {
    auto value = ParseUint64(words[i + 1]);
    if (!value) {
      break;
    }
    if (words[i] == key) {
      return *value;
    }
  }
  return uint64_t{0};
}

Result<void> ReadKeyedValues(const std::string& file, std::initializer_list<KeyedField> fields) {
  for (const KeyedField& field : fields) {
    *field.value = 0;
  }
  CR_ASSIGN_OR_RETURN(std::string text, ReadIfPresent(file));
  auto words = Words(text);
  for (size_t i = 0; i + 1 < words.size(); i += 2) {
    for (const KeyedField& field : fields) {
      if (words[i] == field.key) {
        *field.value = ParseUint64(words[i + 1]).value_or(0);
        break;
      }
    }
  }
  return Ok();
}

}  // namespace cricket::oci::cgroupfs
