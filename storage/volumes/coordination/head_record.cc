#include "storage/volumes/coordination/head_record.h"

#include <nlohmann/json.hpp>

namespace cricket::storage {

std::string EncodeHead(const VolumeHead& head) {
  nlohmann::json j = {{"manifest_digest", head.manifest_digest}, {"token", head.token}};
  return j.dump();
}

Result<VolumeHead> DecodeHead(const std::string& data, const std::string& where) {
  // The non-throwing parse; a wrong type is caught by the checks below, not by get<>().
  nlohmann::json j = nlohmann::json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return Error(Code::kDataLoss, "volume head " + where + " is not a JSON object");
  }
  auto digest = j.find("manifest_digest");
  auto token = j.find("token");
  if (digest == j.end() || !digest->is_string() || token == j.end() ||
      !token->is_number_integer()) {
    return Error(Code::kDataLoss,
                 "volume head " + where + " lacks a string manifest_digest or an integer token");
  }
  return VolumeHead{.manifest_digest = digest->get<std::string>(), .token = token->get<int64_t>()};
}

}  // namespace cricket::storage
