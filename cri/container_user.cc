#include "cri/container_user.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <sstream>
#include <vector>

#include "common/files.h"
#include "common/root_file.h"
#include "oci/spec_json.h"

namespace cricket::cri {
namespace {

std::optional<uint32_t> IdNumber(const std::string& text) {
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, ':')) {
    out.push_back(field);
  }
  return out;
}

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

using Rows = std::vector<std::vector<std::string>>;

// Lines of the rootfs's `file` ("/etc/passwd"), split at ':'; none when it has no such file (a
// scratch image). The file comes from the image: it is read inside the rootfs (a symlink to
// /dev/zero or to a host file, a FIFO, a device node, a huge file are errors naming it, never a
// host file's content or a hang), and a failure other than "missing" fails the request.
Result<Rows> Table(const std::string& rootfs, const char* file) {
  Rows rows;
  auto text = ReadFileInRoot(rootfs, file, kMaxAccountFileBytes);
  if (!text.ok()) {
    if (text.error().code() == Code::kNotFound) {
      return rows;
    }
    return text.error().Wrap("read the image's " + std::string(file));
  }
  std::stringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.front() != '#') {
      rows.push_back(Fields(line));
    }
  }
  return rows;
}

// The /etc/passwd entry whose name (or uid, for a number) is `name_or_uid`.
Result<std::optional<PasswdEntry>> FindUser(const std::string& rootfs,
                                            const std::string& name_or_uid) {
  auto uid = IdNumber(name_or_uid);
  CR_ASSIGN_OR_RETURN(Rows rows, Table(rootfs, "/etc/passwd"));
  for (const auto& row : rows) {
    if (row.size() < 4) {
      continue;
    }
    auto row_uid = IdNumber(row[2]);
    auto row_gid = IdNumber(row[3]);
    if (!row_uid || !row_gid) {
      continue;
    }
    if ((uid && *row_uid == *uid) || (!uid && row[0] == name_or_uid)) {
      return std::optional(PasswdEntry{row[0], *row_uid, *row_gid});
    }
  }
  return std::optional<PasswdEntry>();
}

Result<std::optional<uint32_t>> FindGroup(const std::string& rootfs, const std::string& name) {
  CR_ASSIGN_OR_RETURN(Rows rows, Table(rootfs, "/etc/group"));
  for (const auto& row : rows) {
    if (row.size() >= 3 && row[0] == name) {
      return IdNumber(row[2]);
    }
  }
  return std::optional<uint32_t>();
}

// Groups of /etc/group that list `user` as a member (the image's own grouping).
Result<std::vector<uint32_t>> MemberGroups(const std::string& rootfs, const std::string& user) {
  std::vector<uint32_t> out;
  if (user.empty()) {
    return out;
  }
  CR_ASSIGN_OR_RETURN(Rows rows, Table(rootfs, "/etc/group"));
  for (const auto& row : rows) {
    if (row.size() < 4) {
      continue;
    }
    std::stringstream members(row[3]);
    std::string member;
    while (std::getline(members, member, ',')) {
      auto gid = IdNumber(row[2]);
      if (member == user && gid) {
        out.push_back(*gid);
      }
    }
  }
  return out;
}

}  // namespace

Result<oci::User> ResolveUser(const runtime::v1::LinuxContainerSecurityContext& sc,
                              const std::string& image_user, const std::string& rootfs) {
  const bool has_user = sc.has_run_as_user() || !sc.run_as_username().empty();
  if (sc.has_run_as_group() && !has_user) {
    // CRI: a group alone is refused; the image's user might not belong to it.
    return Error(Code::kInvalidArgument,
                 "linux.security_context.run_as_group needs run_as_user or run_as_username");
  }
  oci::User user;
  std::string user_name;
  std::string spec_user;   // "uid", "name", from the config or the image
  std::string spec_group;  // the image's ":group" part
  if (sc.has_run_as_user()) {
    if (sc.run_as_user().value() < 0) {
      return Error(Code::kInvalidArgument, "linux.security_context.run_as_user is negative");
    }
    spec_user = std::to_string(sc.run_as_user().value());
  } else if (!sc.run_as_username().empty()) {
    spec_user = sc.run_as_username();
  } else {
    size_t colon = image_user.find(':');
    spec_user = image_user.substr(0, colon);
    if (colon != std::string::npos) {
      spec_group = image_user.substr(colon + 1);
    }
  }
  if (!spec_user.empty()) {
    CR_ASSIGN_OR_RETURN(std::optional<PasswdEntry> entry, FindUser(rootfs, spec_user));
    if (auto uid = IdNumber(spec_user)) {
      user.uid = *uid;
      user.gid = entry ? entry->gid : 0;
      user_name = entry ? entry->name : "";
    } else if (entry) {
      user.uid = entry->uid;
      user.gid = entry->gid;
      user_name = entry->name;
    } else {
      return Error(Code::kInvalidArgument,
                   "user \"" + spec_user + "\" is not in the image's /etc/passwd");
    }
  }
  if (!spec_group.empty()) {
    std::optional<uint32_t> gid = IdNumber(spec_group);
    if (!gid) {
      CR_ASSIGN_OR_RETURN(gid, FindGroup(rootfs, spec_group));
    }
    if (!gid) {
      return Error(Code::kInvalidArgument,
                   "group \"" + spec_group + "\" is not in the image's /etc/group");
    }
    user.gid = *gid;
  }
  if (sc.has_run_as_group()) {
    if (sc.run_as_group().value() < 0) {
      return Error(Code::kInvalidArgument, "linux.security_context.run_as_group is negative");
    }
    user.gid = static_cast<uint32_t>(sc.run_as_group().value());
  }
  // Supplementary groups: the primary group (as containerd lists it), the pod's, and with
  // policy Merge (the default) the user's memberships in the image's /etc/group; Strict leaves
  // those out.
  std::vector<uint32_t> groups;
  if (sc.supplemental_groups_policy() != runtime::v1::SupplementalGroupsPolicy::Strict) {
    CR_ASSIGN_OR_RETURN(groups, MemberGroups(rootfs, user_name));
  }
  groups.push_back(user.gid);
  for (int64_t gid : sc.supplemental_groups()) {
    groups.push_back(static_cast<uint32_t>(gid));
  }
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  user.additional_gids = std::move(groups);
  return user;
}

ContainerUser ContainerUserFromSpec(const oci::User& user) {
  return ContainerUser{user.uid, user.gid, user.additional_gids};
}

Result<ContainerUser> RecordedContainerUser(const ContainerInfo& info) {
  if (info.user) {
    return *info.user;
  }
  CR_ASSIGN_OR_RETURN(oci::Spec spec, oci::LoadSpec(info.bundle));
  if (!spec.process) {
    return Error(Code::kNotFound, "bundle " + info.bundle + " has no process");
  }
  return ContainerUserFromSpec(spec.process->user);
}

}  // namespace cricket::cri
