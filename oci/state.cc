#include "oci/state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/unique_fd.h"
#include "oci/json_reader.h"

namespace cricket::oci {

using Json = nlohmann::json;

namespace {

Result<Status> ParseStatus(const std::string& name) {
  for (Status s : {Status::kCreating, Status::kCreated, Status::kRunning, Status::kStopped,
                   Status::kPaused}) {
    if (name == StatusName(s)) {
      return s;
    }
  }
  return Error(Code::kInvalidArgument, "status: unknown status \"" + name + "\"");
}

}  // namespace

const char* StatusName(Status status) {
  switch (status) {
    case Status::kCreating: return "creating";
    case Status::kCreated: return "created";
    case Status::kRunning: return "running";
    case Status::kStopped: return "stopped";
    case Status::kPaused: return "paused";
  }
  return "stopped";
}

std::string StateToJson(const ContainerState& state) {
  Json j{{"ociVersion", state.oci_version},
         {"id", state.id},
         {"status", StatusName(state.status)},
         {"pid", state.status == Status::kStopped ? 0 : state.pid},
         {"bundle", state.bundle},
         {"rootfs", state.rootfs},
         {"created", state.created},
         {"cgroupPath", state.cgroup_path},
         {"pidStartTime", state.pid_start_time},
         {"oomKilled", state.oom_killed}};
  if (!state.annotations.empty()) {
    j["annotations"] = state.annotations;
  }
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<ContainerState> StateFromJson(std::string_view text) {
  CR_ASSIGN_OR_RETURN(Json doc, ParseJsonText(text, "state.json"));
  JsonReader r;
  ContainerState state;
  std::string status;
  int64_t pid = 0;
  if (r.ExpectObject(doc, "")) {
    r.Field(doc, "", "ociVersion", state.oci_version);
    r.Field(doc, "", "id", state.id);
    r.Field(doc, "", "status", status);
    r.Field(doc, "", "pid", pid);
    r.Field(doc, "", "bundle", state.bundle);
    r.Field(doc, "", "rootfs", state.rootfs);
    r.Field(doc, "", "created", state.created);
    r.Field(doc, "", "cgroupPath", state.cgroup_path);
    r.Field(doc, "", "pidStartTime", state.pid_start_time);
    r.Field(doc, "", "oomKilled", state.oom_killed);
    r.Field(doc, "", "annotations", state.annotations);
  }
  CR_RETURN_IF_ERROR(r.status());
  CR_ASSIGN_OR_RETURN(state.status, ParseStatus(status));
  state.pid = static_cast<pid_t>(pid);
  return state;
}

Result<void> ValidateContainerId(const std::string& id) {
  if (id.empty() || id == "." || id == "..") {
    return Error(Code::kInvalidArgument, "container id: must not be empty, \".\" or \"..\"");
  }
  bool ok = std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
  });
  if (!ok) {
    return Error(Code::kInvalidArgument, "container id: \"" + id + "\" has characters outside [A-Za-z0-9_.-]");
  }
  return Ok();
}

Result<void> StateStore::Reserve(const std::string& id) {
  CR_RETURN_IF_ERROR(ValidateContainerId(id));
  CR_RETURN_IF_ERROR(MakeDirs(root_dir_, 0711));
  if (::mkdir(Dir(id).c_str(), 0711) < 0) {
    if (errno == EEXIST) {
      return Error(Code::kAlreadyExists, "container \"" + id + "\" already exists", EEXIST);
    }
    return Error::FromErrno(errno, "mkdir " + Dir(id));
  }
  return Ok();
}

// Write-temp + rename without fsync: a reader never sees half a file, and the state is runtime
// state under /run, which does not outlive a reboot (FHS), so surviving power loss buys
// nothing. The fsyncs cost milliseconds on every lifecycle step when /run is on disk.
Result<void> StateStore::Save(const ContainerState& state) {
  std::string path = Dir(state.id) + "/state.json";
  std::string tmp = path + ".tmp";
  std::string text = StateToJson(state);
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  if (!fd.valid()) {
    return Error::FromErrno(errno, "create " + tmp);
  }
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    ::unlink(tmp.c_str());
    return Error::FromErrno(errno == 0 ? EIO : errno, "write " + tmp);
  }
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    ::unlink(tmp.c_str());
    return Error::FromErrno(errno, "rename " + tmp);
  }
  return Ok();
}

Result<ContainerState> StateStore::Load(const std::string& id) const {
  CR_RETURN_IF_ERROR(ValidateContainerId(id));
  auto text = ReadFile(Dir(id) + "/state.json");
  if (!text.ok()) {
    if (text.error().code() == Code::kNotFound) {
      return Error(Code::kNotFound, "container \"" + id + "\" does not exist", ENOENT);
    }
    return text.error();
  }
  auto state = StateFromJson(*text);
  if (!state.ok()) {
    return state.error().Wrap("read state of " + id);
  }
  return state;
}

Result<void> StateStore::Remove(const std::string& id) {
  CR_RETURN_IF_ERROR(ValidateContainerId(id));
  std::error_code ec;
  std::filesystem::remove_all(Dir(id), ec);
  if (ec) {
    return Error::FromErrno(ec.value(), "remove " + Dir(id));
  }
  return Ok();
}

Result<std::vector<std::string>> StateStore::List() const {
  std::vector<std::string> ids;
  std::error_code ec;
  std::filesystem::directory_iterator it(root_dir_, ec);
  if (ec) {
    if (ec.value() == ENOENT) {
      return ids;
    }
    return Error::FromErrno(ec.value(), "list " + root_dir_);
  }
  for (const auto& entry : it) {
    if (entry.is_directory(ec)) {
      ids.push_back(entry.path().filename().string());
    }
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace cricket::oci
