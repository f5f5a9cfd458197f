#pragma once

// Optional fields of a JSON object read from disk or from a registry: a missing or mistyped
// field reads as empty, and nothing throws.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cricket::storage {

// j[key] when j is an object and that is a string; "" otherwise.
inline std::string JsonString(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) {
    return "";
  }
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// The strings of the array j[key]; entries that are not strings are left out.
inline std::vector<std::string> JsonStringList(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.is_object()) {
    return out;
  }
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) {
    return out;
  }
  for (const nlohmann::json& v : *it) {
    if (v.is_string()) {
      out.push_back(v.get<std::string>());
    }
  }
  return out;
}

}  // namespace cricket::storage
