#pragma once

// Reading and writing config.json. Reading checks JSON types and names the offending field
// ("process.user.uid: expected an unsigned integer"); meaning is checked by ValidateSpec.

#include <string>
#include <string_view>

#include "common/result.h"
#include "oci/spec.h"

namespace cricket::oci {

// kInvalidArgument for malformed JSON or a field of the wrong type, naming the field.
// Unknown fields are ignored, as the spec asks of runtimes.
Result<Spec> ParseSpec(std::string_view json_text);

// A process object alone (what `exec --process` reads), fields named as in config.json.
Result<Process> ParseProcess(std::string_view json_text);

// Reads <bundle>/config.json. kNotFound when it is missing.
Result<Spec> LoadSpec(const std::string& bundle_dir);

// Pretty-printed JSON with the spec's field names; empty optional fields are left out.
std::string SpecToJson(const Spec& spec);

}  // namespace cricket::oci

namespace cricket::oci {

// The process object alone, as ParseProcess reads it (what a shim's exec request carries).
std::string ProcessToJson(const Process& process);

}  // namespace cricket::oci
