#include "oci/mount_options.h"

#include <sys/mount.h>

#include <string_view>

namespace cricket::oci {
namespace {

struct FlagOption {
  std::string_view name;
  bool clear;  // the option turns the flag off ("rw" clears MS_RDONLY)
  unsigned long flag;
};

constexpr FlagOption kFlagOptions[] = {
    {"async", true, MS_SYNCHRONOUS},  {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},         {"defaults", false, 0},
    {"dev", true, MS_NODEV},          {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},   {"exec", true, MS_NOEXEC},
    {"iversion", false, MS_I_VERSION}, {"noiversion", true, MS_I_VERSION},
    {"mand", false, MS_MANDLOCK},     {"nomand", true, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},   {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME}, {"noexec", false, MS_NOEXEC},
    {"nosuid", false, MS_NOSUID},     {"norelatime", true, MS_RELATIME},
    {"relatime", false, MS_RELATIME}, {"rbind", false, MS_BIND | MS_REC},
    {"remount", false, MS_REMOUNT},   {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},          {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME}, {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},
};

}  // namespace

unsigned long PropagationFlags(std::string_view name) {
  struct Entry {
    std::string_view name;
    unsigned long flags;
  };
  static constexpr Entry kTable[] = {
      {"private", MS_PRIVATE}, {"rprivate", MS_PRIVATE | MS_REC},
      {"slave", MS_SLAVE},     {"rslave", MS_SLAVE | MS_REC},
      {"shared", MS_SHARED},   {"rshared", MS_SHARED | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  for (const auto& e : kTable) {
    if (e.name == name) {
      return e.flags;
    }
  }
  return 0;
}

Result<MountOptions> ParseMountOptions(const std::vector<std::string>& options) {
  MountOptions out;
  for (const auto& option : options) {
    if (option.empty()) {
      return Error(Code::kInvalidArgument, "empty mount option");
    }
    bool known = false;
    for (const auto& f : kFlagOptions) {
      if (f.name == option) {
        out.flags = f.clear ? (out.flags & ~f.flag) : (out.flags | f.flag);
        known = true;
        break;
      }
    }
    if (known) {
      continue;
    }
    if (unsigned long prop = PropagationFlags(option); prop != 0) {
      out.propagation.push_back(prop);
    } else if (option == "rro") {
      out.recursive_readonly = true;
    } else if (option == "rrw") {
      out.recursive_readonly = false;
    } else if (option == "tmpcopyup") {
      // crun's extension: copy the image content up into a tmpfs; not supported, harmless to skip.
    } else if (option == "idmap" || option == "ridmap") {
      out.idmap = true;
      out.idmap_recursive = option == "ridmap";
    } else {
      if (!out.data.empty()) {
        out.data += ',';
      }
      out.data += option;
    }
  }
  return out;
}

}  // namespace cricket::oci
