#pragma once

// Reading a bundle for the runtime: config.json parsed, root.path made absolute and validated,
// the rootfs checked to be a directory.

#include <string>

#include "common/result.h"
#include "oci/spec.h"

namespace cricket::oci {

// realpath of dir. kNotFound when it does not exist.
Result<std::string> AbsoluteDir(const std::string& dir);

// kNotFound for a missing config.json or rootfs, kInvalidArgument (naming the field) for a bad one.
Result<Spec> LoadBundle(const std::string& bundle_dir);

}  // namespace cricket::oci
