#include "shim/exit_record.h"

#include <nlohmann/json.hpp>

#include "common/files.h"

namespace cricket::shim {

Result<void> WriteExitRecord(const std::string& dir, const ExitRecord& r) {
  nlohmann::json doc = {{"pid", r.pid},
                        {"exitCode", r.exit_code},
                        {"signal", r.signal},
                        {"oomKilled", r.oom_killed},
                        {"startedAt", r.started_at_ns},
                        {"finishedAt", r.finished_at_ns}};
  return WriteFileAtomic(dir + "/" + kExitRecordFile, doc.dump(), 0600,
                         Durability::kProcessCrash);
}

Result<ExitRecord> ReadExitRecord(const std::string& dir) {
  const std::string path = dir + "/" + kExitRecordFile;
  CR_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Error(Code::kDataLoss, "exit record " + path + " is not valid JSON");
  }
  ExitRecord r;
  r.pid = doc.value("pid", 0);
  r.exit_code = doc.value("exitCode", 0);
  r.signal = doc.value("signal", 0);
  r.oom_killed = doc.value("oomKilled", false);
  r.started_at_ns = doc.value("startedAt", int64_t{0});
  r.finished_at_ns = doc.value("finishedAt", int64_t{0});
  return r;
}

}  // namespace cricket::shim
