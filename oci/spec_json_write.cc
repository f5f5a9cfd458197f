// Writing oci::Spec as config.json (the reader is spec_json_read.cc).

#include <nlohmann/json.hpp>

#include "oci/spec_json.h"

namespace cricket::oci {
namespace {

using Json = nlohmann::json;

template <typename T>
void PutIf(Json& obj, const char* key, const std::optional<T>& value) {
  if (value) {
    obj[key] = *value;
  }
}
void PutIf(Json& obj, const char* key, const std::string& value) {
  if (!value.empty()) {
    obj[key] = value;
  }
}
template <typename T>
void PutIf(Json& obj, const char* key, const std::vector<T>& value) {
  if (!value.empty()) {
    obj[key] = value;
  }
}
void PutIf(Json& obj, const char* key, const std::map<std::string, std::string>& value) {
  if (!value.empty()) {
    obj[key] = value;
  }
}

}  // namespace

// nlohmann finds these to_json overloads by argument-dependent lookup.
void to_json(Json& j, const IdMapping& m) {  // NOLINT(readability-identifier-naming): nlohmann's name
  j = Json{{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}};
}

void to_json(Json& j, const Rlimit& r) {  // NOLINT(readability-identifier-naming)
  j = Json{{"type", r.type}, {"hard", r.hard}, {"soft", r.soft}};
}

void to_json(Json& j, const Mount& m) {  // NOLINT(readability-identifier-naming)
  j = Json{{"destination", m.destination}};
  PutIf(j, "type", m.type);
  PutIf(j, "source", m.source);
  PutIf(j, "options", m.options);
  PutIf(j, "uidMappings", m.uid_mappings);
  PutIf(j, "gidMappings", m.gid_mappings);
}

void to_json(Json& j, const Hook& h) {  // NOLINT(readability-identifier-naming)
  j = Json{{"path", h.path}};
  PutIf(j, "args", h.args);
  PutIf(j, "env", h.env);
  PutIf(j, "timeout", h.timeout);
}

void to_json(Json& j, const Namespace& n) {  // NOLINT(readability-identifier-naming)
  j = Json{{"type", n.type}};
  PutIf(j, "path", n.path);
}

void to_json(Json& j, const Device& d) {  // NOLINT(readability-identifier-naming)
  j = Json{{"type", d.type}, {"path", d.path}, {"major", d.major}, {"minor", d.minor}};
  PutIf(j, "fileMode", d.file_mode);
  PutIf(j, "uid", d.uid);
  PutIf(j, "gid", d.gid);
}

void to_json(Json& j, const DeviceCgroup& d) {  // NOLINT(readability-identifier-naming)
  j = Json{{"allow", d.allow}};
  PutIf(j, "type", d.type);
  PutIf(j, "major", d.major);
  PutIf(j, "minor", d.minor);
  PutIf(j, "access", d.access);
}

void to_json(Json& j, const HugepageLimit& h) {  // NOLINT(readability-identifier-naming)
  j = Json{{"pageSize", h.page_size}, {"limit", h.limit}};
}

void to_json(Json& j, const SeccompArg& a) {  // NOLINT(readability-identifier-naming)
  j = Json{{"index", a.index}, {"value", a.value}, {"op", a.op}};
  if (a.value_two != 0) {
    j["valueTwo"] = a.value_two;
  }
}

void to_json(Json& j, const SeccompSyscall& s) {  // NOLINT(readability-identifier-naming)
  j = Json{{"names", s.names}, {"action", s.action}};
  PutIf(j, "errnoRet", s.errno_ret);
  PutIf(j, "args", s.args);
}

namespace {

Json ProcessJson(const Process& p) {
  Json user{{"uid", p.user.uid}, {"gid", p.user.gid}};
  PutIf(user, "umask", p.user.umask);
  PutIf(user, "additionalGids", p.user.additional_gids);
  Json j{{"terminal", p.terminal}, {"user", user}, {"args", p.args}, {"cwd", p.cwd}};
  if (p.console_size) {
    j["consoleSize"] = Json{{"height", p.console_size->height}, {"width", p.console_size->width}};
  }
  PutIf(j, "env", p.env);
  if (p.capabilities) {
    const Capabilities& c = *p.capabilities;
    j["capabilities"] = Json{{"bounding", c.bounding},   {"effective", c.effective},
                             {"inheritable", c.inheritable}, {"permitted", c.permitted},
                             {"ambient", c.ambient}};
  }
  PutIf(j, "rlimits", p.rlimits);
  if (p.no_new_privileges) {
    j["noNewPrivileges"] = true;
  }
  PutIf(j, "apparmorProfile", p.apparmor_profile);
  PutIf(j, "oomScoreAdj", p.oom_score_adj);
  PutIf(j, "selinuxLabel", p.selinux_label);
  return j;
}

Json HooksJson(const Hooks& h) {
  Json j = Json::object();
  PutIf(j, "prestart", h.prestart);
  PutIf(j, "createRuntime", h.create_runtime);
  PutIf(j, "createContainer", h.create_container);
  PutIf(j, "startContainer", h.start_container);
  PutIf(j, "poststart", h.poststart);
  PutIf(j, "poststop", h.poststop);
  return j;
}

Json ResourcesJson(const Resources& r) {
  Json j = Json::object();
  PutIf(j, "devices", r.devices);
  if (r.memory) {
    Json m = Json::object();
    PutIf(m, "limit", r.memory->limit);
    PutIf(m, "reservation", r.memory->reservation);
    PutIf(m, "swap", r.memory->swap);
    PutIf(m, "swappiness", r.memory->swappiness);
    PutIf(m, "disableOOMKiller", r.memory->disable_oom_killer);
    j["memory"] = m;
  }
  if (r.cpu) {
    Json c = Json::object();
    PutIf(c, "shares", r.cpu->shares);
    PutIf(c, "quota", r.cpu->quota);
    PutIf(c, "burst", r.cpu->burst);
    PutIf(c, "period", r.cpu->period);
    PutIf(c, "realtimeRuntime", r.cpu->realtime_runtime);
    PutIf(c, "realtimePeriod", r.cpu->realtime_period);
    PutIf(c, "cpus", r.cpu->cpus);
    PutIf(c, "mems", r.cpu->mems);
    PutIf(c, "idle", r.cpu->idle);
    j["cpu"] = c;
  }
  if (r.pids) {
    j["pids"] = Json{{"limit", r.pids->limit}};
  }
  if (r.block_io) {
    Json b = Json::object();
    PutIf(b, "weight", r.block_io->weight);
    PutIf(b, "leafWeight", r.block_io->leaf_weight);
    j["blockIO"] = b;
  }
  PutIf(j, "hugepageLimits", r.hugepage_limits);
  PutIf(j, "unified", r.unified);
  return j;
}

Json SeccompJson(const Seccomp& s) {
  Json j{{"defaultAction", s.default_action}};
  PutIf(j, "defaultErrnoRet", s.default_errno_ret);
  PutIf(j, "architectures", s.architectures);
  PutIf(j, "flags", s.flags);
  PutIf(j, "listenerPath", s.listener_path);
  PutIf(j, "syscalls", s.syscalls);
  return j;
}

Json LinuxJson(const Linux& l) {
  Json j = Json::object();
  PutIf(j, "namespaces", l.namespaces);
  PutIf(j, "uidMappings", l.uid_mappings);
  PutIf(j, "gidMappings", l.gid_mappings);
  PutIf(j, "devices", l.devices);
  PutIf(j, "cgroupsPath", l.cgroups_path);
  if (l.resources) {
    j["resources"] = ResourcesJson(*l.resources);
  }
  PutIf(j, "rootfsPropagation", l.rootfs_propagation);
  if (l.seccomp) {
    j["seccomp"] = SeccompJson(*l.seccomp);
  }
  PutIf(j, "sysctl", l.sysctl);
  PutIf(j, "maskedPaths", l.masked_paths);
  PutIf(j, "readonlyPaths", l.readonly_paths);
  PutIf(j, "mountLabel", l.mount_label);
  return j;
}

}  // namespace

std::string SpecToJson(const Spec& spec) {
  Json j{{"ociVersion", spec.oci_version}};
  if (spec.process) {
    j["process"] = ProcessJson(*spec.process);
  }
  if (spec.root) {
    j["root"] = Json{{"path", spec.root->path}, {"readonly", spec.root->readonly}};
  }
  PutIf(j, "hostname", spec.hostname);
  PutIf(j, "domainname", spec.domainname);
  PutIf(j, "mounts", spec.mounts);
  if (spec.hooks) {
    j["hooks"] = HooksJson(*spec.hooks);
  }
  PutIf(j, "annotations", spec.annotations);
  if (spec.linux) {
    j["linux"] = LinuxJson(*spec.linux);
  }
  // Replace invalid UTF-8 rather than throw: the strings came from our own structs.
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace cricket::oci

namespace cricket::oci {

std::string ProcessToJson(const Process& process) { return ProcessJson(process).dump(); }

}  // namespace cricket::oci
