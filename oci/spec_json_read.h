#pragma once

// Reading any config.json object through its field table (oci/spec_fields.h). Other formats
// that embed spec objects (seccomp profiles reuse the seccomp argument object) read them with
// the same ReadStruct, which JsonReader::Field finds by argument-dependent lookup.

#include <string>
#include <string_view>

#include "common/result.h"
#include "oci/json_reader.h"
#include "oci/spec.h"
#include "oci/spec_fields.h"

namespace cricket::oci {

// Reads every key of T's table that is present and not null; absent keys keep the member's
// default and unknown keys are ignored. False (with the error in r) when v is not an object or
// a member has the wrong type.
template <HasSpecFields T>
bool ReadStruct(JsonReader& r, const nlohmann::json& v, const std::string& p, T& out) {
  if (!r.ExpectObject(v, p)) {
    return false;
  }
  Fields(out, [&](const char* key, auto& member, Emit /*emit*/) { r.Field(v, p, key, member); });
  return r.ok();
}

// A linux.resources object alone (what `update --resources` reads).
Result<Resources> ParseResources(std::string_view json_text);

}  // namespace cricket::oci
