#pragma once

// The records VolumeManager keeps under <root>/volumes/ so a restarted cricketd knows what it
// had attached (issue #7: "nothing lost on a crash"). Both are small JSON files written with
// WriteFileAtomic (temp + fsync + rename): a crash leaves the old or the new version.
//
//   attachments/<volume>.json  one per attached volume: the lease (to resume with KeepAlive),
//                              the head this node last published or restored, the users
//                              (container id -> pod id) and whether the copy went stale.
//   copies/<volume>.json       the state of the working copy data/<volume> while detached:
//                              the manifest digest it holds and whether it is exactly that
//                              snapshot ("clean"); only a clean copy at the head is served
//                              again without a restore.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage/volumes/coordination/coordinator.h"

namespace cricket::storage {

struct AttachmentRecord {
  VolumeLease lease;  // lease.volume is the volume's name
  std::string head;   // manifest digest of the head; "" when the volume has none yet
  std::map<std::string, std::string> users;  // container id -> pod id
  bool stale = false;
  std::string stale_reason;
};

struct CopyRecord {
  std::string digest;  // the snapshot the working copy holds
  bool clean = false;  // true: unchanged since that snapshot was taken or restored
};

std::string AttachmentToJson(const AttachmentRecord& record);
// kDataLoss naming `source` for a malformed record.
Result<AttachmentRecord> AttachmentFromJson(const std::string& text, const std::string& source);

std::string CopyToJson(const CopyRecord& record);
Result<CopyRecord> CopyFromJson(const std::string& text, const std::string& source);

// Reads attachments/<volume>.json for VolumeManager's resume after a restart. A record that
// cannot be read back (not JSON, a missing or mistyped field, another volume's name) does not
// fail: the file is renamed to `<path>.corrupt-<unix seconds>`, one error line names it, and a
// *stale* record for `volume` is written in its place and returned. That volume then reports as
// needing attention (stale, with the reason; Attach answers kUnavailable; `cricketctl volumes
// release` clears it) while the others resume: its lease and users are unknown, so its copy is
// never published. Errors other than a bad record (EIO, a failed rename) are returned.
Result<AttachmentRecord> LoadAttachmentRecord(const std::string& path, const std::string& volume);

// Reads a record file; nullopt when it does not exist.
Result<std::optional<CopyRecord>> ReadCopyRecord(const std::string& path);

}  // namespace cricket::storage
