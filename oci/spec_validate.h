#pragma once

// Checks of a parsed Spec that the runtime relies on. Every error is kInvalidArgument and starts
// with the field it is about ("linux.namespaces[1].type: unknown namespace type \"foo\"").

#include <string>
#include <string_view>

#include "common/result.h"
#include "oci/spec.h"

namespace cricket::oci {

// root.path and bind-mount sources may be relative to the bundle (runc's `spec` writes
// "rootfs"): makes them absolute.
void ResolveBundlePaths(Spec& spec, const std::string& bundle_dir);

// Validates a spec whose root.path is already absolute (see ResolveBundlePaths). Requires
// `process`, since every container this runtime creates runs one.
Result<void> ValidateSpec(const Spec& spec);

// "pid" -> CLONE_NEWPID, ...; 0 for an unknown type.
int NamespaceCloneFlag(std::string_view type);

// "rprivate" -> MS_PRIVATE | MS_REC, ...; 0 for an unknown name.
unsigned long PropagationFlags(std::string_view name);

}  // namespace cricket::oci
