#pragma once

// JsonReader: typed, non-throwing reads out of an nlohmann::json tree that remember the first
// error together with the dotted path of the field ("linux.namespaces[2].type: expected a
// string"). Used by every JSON format oci/ reads (config.json, state.json, seccomp profiles).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace cricket::oci {

class JsonReader {
 public:
  using Json = nlohmann::json;

  bool ok() const { return error_.empty(); }
  // kInvalidArgument naming the first bad field; Ok() when every read succeeded.
  Result<void> status() const;

  // Records an error for `path` unless one is already recorded.
  void Fail(const std::string& path, const std::string& what);

  // Scalars. Each returns false (and records an error) on a type mismatch.
  bool Read(const Json& v, const std::string& path, std::string& out);
  bool Read(const Json& v, const std::string& path, bool& out);
  bool Read(const Json& v, const std::string& path, int64_t& out);
  bool Read(const Json& v, const std::string& path, uint64_t& out);
  bool Read(const Json& v, const std::string& path, uint32_t& out);
  bool Read(const Json& v, const std::string& path, uint16_t& out);
  bool Read(const Json& v, const std::string& path, int& out);
  bool Read(const Json& v, const std::string& path, std::map<std::string, std::string>& out);

  template <typename T>
  bool Read(const Json& v, const std::string& path, std::vector<T>& out) {
    if (!v.is_array()) {
      Fail(path, "expected an array");
      return false;
    }
    out.clear();
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      T item{};
      if (!ReadAny(v[i], path + "[" + std::to_string(i) + "]", item)) {
        return false;
      }
      out.push_back(std::move(item));
    }
    return true;
  }

  // Reads obj[key] into out when the key is present and not null; leaves out alone otherwise.
  template <typename T>
  void Field(const Json& obj, const std::string& path, const char* key, T& out) {
    if (!ok()) {
      return;
    }
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      return;
    }
    ReadAny(*it, Join(path, key), out);
  }
  template <typename T>
  void Field(const Json& obj, const std::string& path, const char* key, std::optional<T>& out) {
    if (!ok()) {
      return;
    }
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      return;
    }
    T value{};
    if (ReadAny(*it, Join(path, key), value)) {
      out = std::move(value);
    }
  }

  // True when v is an object; records "expected an object" otherwise.
  bool ExpectObject(const Json& v, const std::string& path);

  static std::string Join(const std::string& path, const char* key) {
    return path.empty() ? std::string(key) : path + "." + key;
  }

 private:
  // Structs are read by a free function `bool ReadStruct(JsonReader&, const Json&, const
  // std::string&, T&)` found by argument-dependent lookup; scalars by the members above.
  template <typename T>
  bool ReadAny(const Json& v, const std::string& path, T& out) {
    if constexpr (requires { Read(v, path, out); }) {
      return Read(v, path, out);
    } else {
      return ReadStruct(*this, v, path, out);
    }
  }

  std::string error_;
};

// Parses JSON text. kInvalidArgument with the parser's message (it names the byte offset).
Result<nlohmann::json> ParseJsonText(std::string_view text, std::string_view what);

}  // namespace cricket::oci
