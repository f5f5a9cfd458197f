#pragma once

// The stored form of a VolumeHead, shared by the backends: one JSON object,
// {"manifest_digest":"sha256:...","token":42}, in the local head file and the etcd head key.

#include <string>

#include "common/result.h"
#include "storage/volumes/coordination/coordinator.h"

namespace cricket::storage {

std::string EncodeHead(const VolumeHead& head);

// kDataLoss naming `where` (a path or a key) when the bytes are not a head record.
Result<VolumeHead> DecodeHead(const std::string& data, const std::string& where);

}  // namespace cricket::storage
