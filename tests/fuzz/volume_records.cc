// What the portable volume code reads back from places other nodes (or a damaged disk) wrote:
// a volume head as etcd's head key or the local head file holds it, the attachment and copy
// records of the state directory, and a snapshot's config blob from the registry or the
// directory store (its manifest is in image_json).

#include <cstdint>
#include <string>

#include "storage/volumes/attachment_record.h"
#include "storage/volumes/coordination/head_record.h"
#include "storage/volumes/snapshots/snapshot_artifact.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cricket::storage;
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)DecodeHead(text, "/cricket/volumes/heads/fuzz");
  (void)AttachmentFromJson(text, "attachment.json");
  (void)CopyFromJson(text, "copy.json");
  (void)volumes::ParseSnapshotConfig(text);
  return 0;
}
