#include "oci/json_reader.h"

#include <limits>

namespace cricket::oci {

Result<void> JsonReader::status() const {
  if (ok()) {
    return Ok();
  }
  return Error(Code::kInvalidArgument, error_);
}

void JsonReader::Fail(const std::string& path, const std::string& what) {
  if (error_.empty()) {
    error_ = (path.empty() ? std::string("document") : path) + ": " + what;
  }
}

bool JsonReader::ExpectObject(const Json& v, const std::string& path) {
  if (!v.is_object()) {
    Fail(path, "expected an object");
    return false;
  }
  return true;
}

bool JsonReader::Read(const Json& v, const std::string& path, std::string& out) {
  if (!v.is_string()) {
    Fail(path, "expected a string");
    return false;
  }
  out = v.get_ref<const std::string&>();
  return true;
}

bool JsonReader::Read(const Json& v, const std::string& path, bool& out) {
  if (!v.is_boolean()) {
    Fail(path, "expected true or false");
    return false;
  }
  out = v.get<bool>();
  return true;
}

bool JsonReader::Read(const Json& v, const std::string& path, int64_t& out) {
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      Fail(path, "number out of range");
      return false;
    }
    out = static_cast<int64_t>(u);
    return true;
  }
  if (!v.is_number_integer()) {
    Fail(path, "expected an integer");
    return false;
  }
  out = v.get<int64_t>();
  return true;
}

bool JsonReader::Read(const Json& v, const std::string& path, uint64_t& out) {
  if (!v.is_number_unsigned()) {
    Fail(path, "expected an unsigned integer");
    return false;
  }
  out = v.get<uint64_t>();
  return true;
}

bool JsonReader::Read(const Json& v, const std::string& path, uint32_t& out) {
  uint64_t wide = 0;
  if (!Read(v, path, wide)) {
    return false;
  }
  if (wide > std::numeric_limits<uint32_t>::max()) {
    Fail(path, "number out of range");
    return false;
  }
  out = static_cast<uint32_t>(wide);
  return true;
}

bool JsonReader::Read(const Json& v, const std::string& path, uint16_t& out) {
  uint64_t wide = 0;
  if (!Read(v, path, wide)) {
    return false;
  }
  if (wide > std::numeric_limits<uint16_t>::max()) {
    Fail(path, "number out of range");
    return false;
  }
  out = static_cast<uint16_t>(wide);
  return true;
}

bool JsonReader::Read(const Json& v, const std::string& path, int& out) {
  int64_t wide = 0;
  if (!Read(v, path, wide)) {
    return false;
  }
  if (wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max()) {
    Fail(path, "number out of range");
    return false;
  }
  out = static_cast<int>(wide);
  return true;
}

bool JsonReader::Read(const Json& v, const std::string& path,
                      std::map<std::string, std::string>& out) {
  if (!ExpectObject(v, path)) {
    return false;
  }
  out.clear();
  for (const auto& [key, value] : v.items()) {
    if (!value.is_string()) {
      Fail(path + "." + key, "expected a string");
      return false;
    }
    out[key] = value.get<std::string>();
  }
  return true;
}

Result<nlohmann::json> ParseJsonText(std::string_view text, std::string_view what) {
  // nlohmann reports the position only through its exception; convert it right here.
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return Error(Code::kInvalidArgument, std::string(what) + " is not valid JSON: " + e.what());
  }
}

}  // namespace cricket::oci
