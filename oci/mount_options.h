#pragma once

// Translation of OCI mount options ("ro", "nosuid", "rbind", "rslave", "size=64k", ...) into
// mount(2) flags, propagation changes and the filesystem data string, as mount(8) reads them.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace cricket::oci {

struct MountOptions {
  unsigned long flags = 0;                 // MS_* to set
  std::vector<unsigned long> propagation;  // applied one by one after the mount, in order
  bool recursive_readonly = false;         // "rro": mount_setattr(AT_RECURSIVE, MOUNT_ATTR_RDONLY)
  bool idmap = false;                      // "idmap" or "ridmap": an idmapped bind mount
  bool idmap_recursive = false;            // "ridmap": its submounts too
  std::string data;                        // unknown options, comma-joined, for the filesystem
};

// kInvalidArgument for an empty option.
Result<MountOptions> ParseMountOptions(const std::vector<std::string>& options);

// "rprivate" -> MS_PRIVATE | MS_REC, ...; 0 for an unknown name. Also what
// linux.rootfsPropagation names.
unsigned long PropagationFlags(std::string_view name);

}  // namespace cricket::oci
