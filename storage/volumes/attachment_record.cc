#include "storage/volumes/attachment_record.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/log.h"

namespace cricket::storage {

using nlohmann::json;

std::string AttachmentToJson(const AttachmentRecord& record) {
  json users = json::object();
  for (const auto& [ctr, pod] : record.users) {
    users[ctr] = pod;
  }
  json out = {{"volume", record.lease.volume},
              {"node", record.lease.node},
              {"token", record.lease.token},
              {"lease_id", record.lease.lease_id},
              {"ttl_seconds", record.lease.ttl.count()},
              {"head", record.head},
              {"users", std::move(users)},
              {"stale", record.stale},
              {"stale_reason", record.stale_reason}};
  return out.dump(2) + "\n";
}

Result<AttachmentRecord> AttachmentFromJson(const std::string& text, const std::string& source) {
  json in = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!in.is_object() || !in["volume"].is_string() || !in["node"].is_string() ||
      !in["token"].is_number_integer() || !in["lease_id"].is_number_integer() ||
      !in["ttl_seconds"].is_number_integer() || !in["head"].is_string() ||
      !in["users"].is_object() || !in["stale"].is_boolean()) {
    return Error(Code::kDataLoss, "volume attachment record " + source + " is corrupt");
  }
  AttachmentRecord record;
  record.lease.volume = in["volume"].get<std::string>();
  record.lease.node = in["node"].get<std::string>();
  record.lease.token = in["token"].get<int64_t>();
  record.lease.lease_id = in["lease_id"].get<int64_t>();
  record.lease.ttl = std::chrono::seconds(in["ttl_seconds"].get<int64_t>());
  record.head = in["head"].get<std::string>();
  for (const auto& [ctr, pod] : in["users"].items()) {
    if (!pod.is_string()) {
      return Error(Code::kDataLoss, "volume attachment record " + source + " is corrupt");
    }
    record.users[ctr] = pod.get<std::string>();
  }
  record.stale = in["stale"].get<bool>();
  if (in.contains("stale_reason") && in["stale_reason"].is_string()) {
    record.stale_reason = in["stale_reason"].get<std::string>();
  }
  return record;
}

std::string CopyToJson(const CopyRecord& record) {
  return json{{"digest", record.digest}, {"clean", record.clean}}.dump() + "\n";
}

Result<CopyRecord> CopyFromJson(const std::string& text, const std::string& source) {
  json in = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!in.is_object() || !in["digest"].is_string() || !in["clean"].is_boolean()) {
    return Error(Code::kDataLoss, "volume copy record " + source + " is corrupt");
  }
  return CopyRecord{in["digest"].get<std::string>(), in["clean"].get<bool>()};
}

Result<AttachmentRecord> LoadAttachmentRecord(const std::string& path, const std::string& volume) {
  CR_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto record = AttachmentFromJson(text, path);
  if (record.ok() && record->lease.volume != volume) {
    record = Error(Code::kDataLoss, "volume attachment record " + path + " names volume \"" +
                                        record->lease.volume + "\"");
  }
  if (record.ok() || record.error().code() != Code::kDataLoss) {
    return record;
  }
  std::string aside = path + ".corrupt-" + std::to_string(std::time(nullptr));
  if (::rename(path.c_str(), aside.c_str()) < 0) {
    return Error::FromErrno(errno, "move corrupt " + path + " to " + aside);
  }
  AttachmentRecord stale;
  stale.lease.volume = volume;
  stale.stale = true;
  stale.stale_reason = "its attachment record was corrupt (kept as " + aside +
                       "); lease and users unknown: release it once its containers are gone";
  // Written back so a second restart still knows the volume needs attention.
  CR_RETURN_IF_ERROR(WriteFileAtomic(path, AttachmentToJson(stale), 0600));
  log::Error({},
             "volume {}: attachment record {} is corrupt ({}); moved to {}, volume marked "
             "stale and needs attention",
             volume, path, record.error().message(), aside);
  return stale;
}

Result<std::optional<CopyRecord>> ReadCopyRecord(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (text.error().code() == Code::kNotFound) {
      return std::optional<CopyRecord>();
    }
    return text.error();
  }
  CR_ASSIGN_OR_RETURN(CopyRecord record, CopyFromJson(*text, path));
  return std::optional<CopyRecord>(std::move(record));
}

}  // namespace cricket::storage
