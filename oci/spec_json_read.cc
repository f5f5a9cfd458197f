// Reading config.json into oci::Spec (the writer is spec_json_write.cc).

#include "common/files.h"
#include "oci/json_reader.h"
#include "oci/spec_json.h"
#include "oci/spec_json_read.h"

namespace cricket::oci {

using Json = nlohmann::json;

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, User& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "uid", out.uid);
  r.Field(v, p, "gid", out.gid);
  r.Field(v, p, "umask", out.umask);
  r.Field(v, p, "additionalGids", out.additional_gids);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, Capabilities& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "bounding", out.bounding);
  r.Field(v, p, "effective", out.effective);
  r.Field(v, p, "inheritable", out.inheritable);
  r.Field(v, p, "permitted", out.permitted);
  r.Field(v, p, "ambient", out.ambient);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, Rlimit& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "type", out.type);
  r.Field(v, p, "hard", out.hard);
  r.Field(v, p, "soft", out.soft);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, ConsoleSize& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "height", out.height);
  r.Field(v, p, "width", out.width);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, Process& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "terminal", out.terminal);
  r.Field(v, p, "consoleSize", out.console_size);
  r.Field(v, p, "user", out.user);
  r.Field(v, p, "args", out.args);
  r.Field(v, p, "env", out.env);
  r.Field(v, p, "cwd", out.cwd);
  r.Field(v, p, "capabilities", out.capabilities);
  r.Field(v, p, "rlimits", out.rlimits);
  r.Field(v, p, "noNewPrivileges", out.no_new_privileges);
  r.Field(v, p, "apparmorProfile", out.apparmor_profile);
  r.Field(v, p, "oomScoreAdj", out.oom_score_adj);
  r.Field(v, p, "selinuxLabel", out.selinux_label);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, Root& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "path", out.path);
  r.Field(v, p, "readonly", out.readonly);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, IdMapping& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "containerID", out.container_id);
  r.Field(v, p, "hostID", out.host_id);
  r.Field(v, p, "size", out.size);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, Mount& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "destination", out.destination);
  r.Field(v, p, "type", out.type);
  r.Field(v, p, "source", out.source);
  r.Field(v, p, "options", out.options);
  r.Field(v, p, "uidMappings", out.uid_mappings);
  r.Field(v, p, "gidMappings", out.gid_mappings);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, Hook& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "path", out.path);
  r.Field(v, p, "args", out.args);
  r.Field(v, p, "env", out.env);
  r.Field(v, p, "timeout", out.timeout);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, Hooks& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "prestart", out.prestart);
  r.Field(v, p, "createRuntime", out.create_runtime);
  r.Field(v, p, "createContainer", out.create_container);
  r.Field(v, p, "startContainer", out.start_container);
  r.Field(v, p, "poststart", out.poststart);
  r.Field(v, p, "poststop", out.poststop);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, Namespace& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "type", out.type);
  r.Field(v, p, "path", out.path);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, Device& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "type", out.type);
  r.Field(v, p, "path", out.path);
  r.Field(v, p, "major", out.major);
  r.Field(v, p, "minor", out.minor);
  r.Field(v, p, "fileMode", out.file_mode);
  r.Field(v, p, "uid", out.uid);
  r.Field(v, p, "gid", out.gid);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, DeviceCgroup& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "allow", out.allow);
  r.Field(v, p, "type", out.type);
  r.Field(v, p, "major", out.major);
  r.Field(v, p, "minor", out.minor);
  r.Field(v, p, "access", out.access);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, MemoryResources& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "limit", out.limit);
  r.Field(v, p, "reservation", out.reservation);
  r.Field(v, p, "swap", out.swap);
  r.Field(v, p, "swappiness", out.swappiness);
  r.Field(v, p, "disableOOMKiller", out.disable_oom_killer);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, CpuResources& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "shares", out.shares);
  r.Field(v, p, "quota", out.quota);
  r.Field(v, p, "burst", out.burst);
  r.Field(v, p, "period", out.period);
  r.Field(v, p, "realtimeRuntime", out.realtime_runtime);
  r.Field(v, p, "realtimePeriod", out.realtime_period);
  r.Field(v, p, "cpus", out.cpus);
  r.Field(v, p, "mems", out.mems);
  r.Field(v, p, "idle", out.idle);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, BlockIo& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "weight", out.weight);
  r.Field(v, p, "leafWeight", out.leaf_weight);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, HugepageLimit& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "pageSize", out.page_size);
  r.Field(v, p, "limit", out.limit);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, PidsResources& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "limit", out.limit);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, Resources& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "devices", out.devices);
  r.Field(v, p, "memory", out.memory);
  r.Field(v, p, "cpu", out.cpu);
  r.Field(v, p, "pids", out.pids);
  r.Field(v, p, "blockIO", out.block_io);
  r.Field(v, p, "hugepageLimits", out.hugepage_limits);
  r.Field(v, p, "unified", out.unified);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, SeccompArg& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "index", out.index);
  r.Field(v, p, "value", out.value);
  r.Field(v, p, "valueTwo", out.value_two);
  r.Field(v, p, "op", out.op);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, SeccompSyscall& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "names", out.names);
  r.Field(v, p, "action", out.action);
  r.Field(v, p, "errnoRet", out.errno_ret);
  r.Field(v, p, "args", out.args);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, Seccomp& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "defaultAction", out.default_action);
  r.Field(v, p, "defaultErrnoRet", out.default_errno_ret);
  r.Field(v, p, "architectures", out.architectures);
  r.Field(v, p, "flags", out.flags);
  r.Field(v, p, "listenerPath", out.listener_path);
  r.Field(v, p, "syscalls", out.syscalls);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, Linux& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "namespaces", out.namespaces);
  r.Field(v, p, "uidMappings", out.uid_mappings);
  r.Field(v, p, "gidMappings", out.gid_mappings);
  r.Field(v, p, "devices", out.devices);
  r.Field(v, p, "cgroupsPath", out.cgroups_path);
  r.Field(v, p, "resources", out.resources);
  r.Field(v, p, "rootfsPropagation", out.rootfs_propagation);
  r.Field(v, p, "seccomp", out.seccomp);
  r.Field(v, p, "sysctl", out.sysctl);
  r.Field(v, p, "maskedPaths", out.masked_paths);
  r.Field(v, p, "readonlyPaths", out.readonly_paths);
  r.Field(v, p, "mountLabel", out.mount_label);
  return r.ok();
}

bool ReadStruct(JsonReader& r, const Json& v, const std::string& p, Spec& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  r.Field(v, p, "ociVersion", out.oci_version);
  r.Field(v, p, "process", out.process);
  r.Field(v, p, "root", out.root);
  r.Field(v, p, "hostname", out.hostname);
  r.Field(v, p, "domainname", out.domainname);
  r.Field(v, p, "mounts", out.mounts);
  r.Field(v, p, "hooks", out.hooks);
  r.Field(v, p, "annotations", out.annotations);
  r.Field(v, p, "linux", out.linux);
  return r.ok();
}

Result<Spec> ParseSpec(std::string_view json_text) {
  CR_ASSIGN_OR_RETURN(Json doc, ParseJsonText(json_text, "config.json"));
  JsonReader reader;
  Spec spec;
  ReadStruct(reader, doc, "", spec);
  CR_RETURN_IF_ERROR(reader.status());
  return spec;
}

Result<Resources> ParseResources(std::string_view json_text) {
  CR_ASSIGN_OR_RETURN(Json doc, ParseJsonText(json_text, "resources"));
  JsonReader reader;
  Resources resources;
  ReadStruct(reader, doc, "resources", resources);
  CR_RETURN_IF_ERROR(reader.status());
  return resources;
}

Result<Process> ParseProcess(std::string_view json_text) {
  CR_ASSIGN_OR_RETURN(Json doc, ParseJsonText(json_text, "process.json"));
  JsonReader reader;
  Process process;
  ReadStruct(reader, doc, "process", process);
  CR_RETURN_IF_ERROR(reader.status());
  return process;
}

Result<Spec> LoadSpec(const std::string& bundle_dir) {
  std::string path = bundle_dir + "/config.json";
  auto text = ReadFile(path);
  if (!text.ok()) {
    return text.error().Wrap("load spec");
  }
  auto spec = ParseSpec(*text);
  if (!spec.ok()) {
    return spec.error().Wrap(path);
  }
  return spec;
}

}  // namespace cricket::oci
