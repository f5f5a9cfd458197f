#pragma once

// CRI list filters select by labels: every key of the selector must be present with its value.

#include <google/protobuf/map.h>

#include <string>

namespace cricket::cri {

inline bool LabelsMatch(const google::protobuf::Map<std::string, std::string>& selector,
                        const google::protobuf::Map<std::string, std::string>& labels) {
  for (const auto& [key, value] : selector) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) {
      return false;
    }
  }
  return true;
}

}  // namespace cricket::cri
