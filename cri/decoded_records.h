#pragma once

// Typed views of MetadataStore records. A record keeps two serialized parts: `config`, the CRI
// config verbatim (runtime.v1 protobuf), and `runtime`, what the CRI layer learnt about the
// object (JSON, cri/object_info.h). Handlers decode and encode them only through these
// functions, so a corrupt part gets one error, naming the record and the part, everywhere.
//
// Each handler decides what a corrupt part means to it (an error, a record skipped by a List
// call, an empty config); the part decoders let it decode only what it reads. Pure functions.

#include <string>

#include "common/result.h"
#include "cri/metadata_store.h"
#include "cri/object_info.h"
#include "runtime/v1/api.pb.h"

namespace cricket::cri {

// A sandbox record with both parts decoded.
struct Sandbox {
  SandboxRecord record;
  ::runtime::v1::PodSandboxConfig config;
  SandboxInfo info;
};

// A container record with both parts decoded.
struct Container {
  ContainerRecord record;
  ::runtime::v1::ContainerConfig config;
  ContainerInfo info;
};

// One part of a record. kDataLoss naming the kind, the id and the part ("sandbox <id>: stored
// config is corrupt", "... stored runtime state is corrupt").
Result<::runtime::v1::PodSandboxConfig> DecodeConfig(const SandboxRecord& record);
Result<SandboxInfo> DecodeInfo(const SandboxRecord& record);
Result<::runtime::v1::ContainerConfig> DecodeConfig(const ContainerRecord& record);
Result<ContainerInfo> DecodeInfo(const ContainerRecord& record);

// Both parts, config first. kDataLoss as above.
Result<Sandbox> DecodeSandbox(SandboxRecord record);
Result<Container> DecodeContainer(ContainerRecord record);

// The record by full id, decoded: kNotFound naming the id when absent, kDataLoss as above.
// No List counterpart: each List call treats a corrupt part its own way (skips the record,
// leaves a field empty, or fails), so it decodes the parts it reads record by record.
Result<Sandbox> LoadSandbox(MetadataStore& store, const std::string& id);

// The other direction: a typed part into the record's serialized field. kInvalidArgument when
// protobuf cannot serialize the config (over its 2 GiB limit).
Result<void> EncodeConfig(const ::runtime::v1::PodSandboxConfig& config, SandboxRecord& record);
Result<void> EncodeConfig(const ::runtime::v1::ContainerConfig& config, ContainerRecord& record);
void EncodeInfo(const SandboxInfo& info, SandboxRecord& record);
void EncodeInfo(const ContainerInfo& info, ContainerRecord& record);

}  // namespace cricket::cri
