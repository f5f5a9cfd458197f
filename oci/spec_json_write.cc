// Writing oci::Spec as config.json through the field tables of oci/spec_fields.h (the reader
// is spec_json_read.h).

#include <optional>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "oci/spec_fields.h"
#include "oci/spec_json.h"

namespace cricket::oci {

using Json = nlohmann::json;

namespace {

template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};

// True when value holds its type's default: what Emit::kUnlessEmpty leaves out.
template <typename T>
bool IsEmpty(const T& value) {
  if constexpr (IsOptional<T>::value) {
    return !value.has_value();
  } else if constexpr (requires { value.empty(); }) {
    return value.empty();
  } else {
    return value == T{};
  }
}

template <typename T>
void Put(Json& obj, const char* key, const T& value, Emit emit) {
  if constexpr (IsOptional<T>::value) {
    // An absent optional is never written, not even as null.
    if (value) {
      obj[key] = *value;
    }
  } else if (emit == Emit::kAlways || !IsEmpty(value)) {
    obj[key] = value;
  }
}

}  // namespace

// nlohmann finds this by argument-dependent lookup for every struct with a field table, also
// inside lists and optionals. A struct is written as an object even when all of it is left out.
template <HasSpecFields T>
void to_json(Json& j, const T& s) {  // NOLINT(readability-identifier-naming): nlohmann's name
  j = Json::object();
  Fields(s, [&j](const char* key, const auto& member, Emit emit) { Put(j, key, member, emit); });
}

std::string SpecToJson(const Spec& spec) {
  // Replace invalid UTF-8 rather than throw: the strings came from our own structs.
  return Json(spec).dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string ProcessToJson(const Process& process) { return Json(process).dump(); }

}  // namespace cricket::oci
