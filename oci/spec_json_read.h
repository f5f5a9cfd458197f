#pragma once

// The config.json readers of spec fragments that other formats embed (seccomp profiles reuse
// the seccomp argument object). Defined in spec_json_read.cc; found by JsonReader::Field.

#include <string>

#include "oci/json_reader.h"
#include "oci/spec.h"

namespace cricket::oci {

bool ReadStruct(JsonReader& r, const nlohmann::json& v, const std::string& p, SeccompArg& out);

// A linux.resources object alone (what `update --resources` reads).
Result<Resources> ParseResources(std::string_view json_text);

}  // namespace cricket::oci
