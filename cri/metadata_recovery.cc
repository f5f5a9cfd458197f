#include "cri/metadata_recovery.h"

#include <sys/stat.h>

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/log.h"
#include "cri/decoded_records.h"
#include "cri/object_info.h"
#include "runtime/v1/api.pb.h"

namespace cricket::cri {

using Json = nlohmann::json;

namespace {

namespace v1 = ::runtime::v1;

constexpr const char* kRecoveredNamespace = "cricket-recovered";
constexpr const char* kRecoveredLabel = "io.cricket.recovered";

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

bool IsId(const std::string& name) {
  return name.size() == 64 && name.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// A bundle's config.json, or a discarded value when it is missing or not JSON.
Json ReadSpec(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    return Json(Json::value_t::discarded);
  }
  Json spec = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  return spec.is_object() ? spec : Json(Json::value_t::discarded);
}

std::string StringAt(const Json& j, const Json::json_pointer& at) {
  return j.contains(at) && j.at(at).is_string() ? j.at(at).get<std::string>() : "";
}

int64_t ModifiedAtNs(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) {
    return 0;
  }
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// The cgroup parent the pod was created under: the infra's cgroupsPath less its last part.
std::string CgroupParentOf(const Json& spec) {
  std::string path = StringAt(spec, Json::json_pointer("/linux/cgroupsPath"));
  size_t slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "" : path.substr(0, slash);
}

Result<void> RecoverSandbox(const std::string& state_dir, const std::string& id,
                            MetadataStore& store) {
  const std::string dir = state_dir + "/sandboxes/" + id;
  Json spec = ReadSpec(dir + "/infra/config.json");
  if (spec.is_discarded()) {
    return Error(Code::kNotFound, "no readable infra bundle in " + dir);
  }
  v1::PodSandboxConfig config;
  config.mutable_metadata()->set_name("recovered-" + id.substr(0, 12));
  config.mutable_metadata()->set_namespace_(kRecoveredNamespace);
  config.mutable_metadata()->set_uid(id);
  (*config.mutable_labels())[kRecoveredLabel] = "true";
  SandboxInfo info;
  info.state_dir = dir;
  info.infra_shim_dir = state_dir + "/shims/" + id.substr(0, 16);
  info.netns_path = state_dir + "/netns/" + id;
  info.host_network = !Exists(info.netns_path);
  if (info.host_network) {
    info.netns_path.clear();
  }
  info.cgroup_parent = CgroupParentOf(spec);
  for (auto [file, field] :
       {std::pair{"/resolv.conf", &info.resolv_conf}, std::pair{"/hosts", &info.hosts},
        std::pair{"/hostname", &info.hostname_file}}) {
    if (Exists(dir + file)) {
      *field = dir + file;
    }
  }
  if (auto hostname = ReadFile(dir + "/hostname"); hostname.ok()) {
    info.hostname = hostname->substr(0, hostname->find('\n'));
  }
  config.set_hostname(info.hostname);
  SandboxRecord record;
  record.id = id;
  record.name = config.metadata().name() + "_" + kRecoveredNamespace + "_" + id + "_0";
  record.created_at_ns = ModifiedAtNs(dir);
  record.state = Exists(info.infra_shim_dir + "/control.sock") ? SandboxState::kReady
                                                               : SandboxState::kNotReady;
  CR_RETURN_IF_ERROR(EncodeConfig(config, record));
  EncodeInfo(info, record);
  CR_RETURN_IF_ERROR(store.PutSandbox(record));
  log::Warn({.pod = id}, "metadata.db rebuilt: sandbox recovered from {} as {} ({})", dir,
            record.name, record.state == SandboxState::kReady ? "ready" : "not ready");
  return Ok();
}

Result<void> RecoverContainer(const std::string& state_dir, const std::string& id,
                              const std::set<std::string>& sandboxes, MetadataStore& store) {
  const std::string bundle = state_dir + "/containers/" + id;
  Json spec = ReadSpec(bundle + "/config.json");
  std::string sandbox_id =
      StringAt(spec, Json::json_pointer("/annotations/io.kubernetes.cri.sandbox-id"));
  if (spec.is_discarded() || sandboxes.count(sandbox_id) == 0) {
    return Error(Code::kNotFound, "bundle " + bundle + " names no recovered sandbox");
  }
  v1::ContainerConfig config;
  config.mutable_metadata()->set_name("recovered-" + id.substr(0, 12));
  (*config.mutable_labels())[kRecoveredLabel] = "true";
  const Json::json_pointer terminal("/process/terminal");
  config.set_tty(spec.contains(terminal) && spec.at(terminal).is_boolean() &&
                 spec.at(terminal).get<bool>());
  ContainerInfo info;
  info.bundle = bundle;
  info.shim_dir = state_dir + "/shims/" + id.substr(0, 16);
  info.tty = config.tty();
  ContainerRecord record;
  record.id = id;
  record.sandbox_id = sandbox_id;
  record.name = config.metadata().name() + "_recovered-" + sandbox_id.substr(0, 12) + "_" +
                kRecoveredNamespace + "_" + sandbox_id + "_0_0";
  record.created_at_ns = ModifiedAtNs(bundle);
  // The shim knows the truth: the first status call asks it (or reads its exit record).
  record.state = ContainerState::kRunning;
  CR_RETURN_IF_ERROR(EncodeConfig(config, record));
  EncodeInfo(info, record);
  CR_RETURN_IF_ERROR(store.PutContainer(record));
  log::Warn({.pod = sandbox_id, .ctr = id}, "metadata.db rebuilt: container recovered from {}",
            bundle);
  return Ok();
}

// Directory entries that look like object ids; a missing directory has none.
std::vector<std::string> Ids(const std::string& dir) {
  std::vector<std::string> out;
  auto names = ListDirectory(dir);
  if (!names.ok()) {
    return out;
  }
  for (const std::string& name : *names) {
    if (IsId(name)) {
      out.push_back(name);
    }
  }
  return out;
}

}  // namespace

Result<MetadataRecovery> RecoverMetadata(const std::string& state_dir, MetadataStore& store) {
  MetadataRecovery out;
  std::set<std::string> sandboxes;
  for (const std::string& id : Ids(state_dir + "/sandboxes")) {
    auto recovered = RecoverSandbox(state_dir, id, store);
    if (recovered.ok()) {
      sandboxes.insert(id);
      ++out.sandboxes;
    } else if (recovered.error().code() == Code::kNotFound) {
      log::Warn({.pod = id}, "metadata.db rebuilt: sandbox not recovered: {}",
                recovered.error().message());
      ++out.skipped;
    } else {
      return recovered.error();
    }
  }
  for (const std::string& id : Ids(state_dir + "/containers")) {
    auto recovered = RecoverContainer(state_dir, id, sandboxes, store);
    if (recovered.ok()) {
      ++out.containers;
    } else if (recovered.error().code() == Code::kNotFound) {
      log::Warn({.ctr = id}, "metadata.db rebuilt: container not recovered: {}",
                recovered.error().message());
      ++out.skipped;
    } else {
      return recovered.error();
    }
  }
  return out;
}

}  // namespace cricket::cri
