#include "cri/decoded_records.h"

#include <utility>

namespace cricket::cri {
namespace {

namespace v1 = ::runtime::v1;

// `decoded`, or kDataLoss naming the record and its part: what went wrong inside the part is
// of no use to the caller, the record cannot be repaired either way.
template <typename T>
Result<T> OrCorrupt(Result<T> decoded, const char* kind, const std::string& id, const char* part) {
  if (!decoded.ok()) {
    return Error(Code::kDataLoss,
                 std::string(kind) + " " + id + ": stored " + part + " is corrupt");
  }
  return decoded;
}

template <typename Config>
Result<Config> ParseConfig(const std::string& bytes) {
  Config config;
  if (!config.ParseFromString(bytes)) {
    return Error(Code::kDataLoss, "not a serialized CRI config");
  }
  return config;
}

template <typename Config>
Result<void> SerializeConfig(const Config& config, std::string& out) {
  if (!config.SerializeToString(&out)) {
    return Error(Code::kInvalidArgument, "config cannot be serialized");
  }
  return Ok();
}

}  // namespace

Result<v1::PodSandboxConfig> DecodeConfig(const SandboxRecord& record) {
  return OrCorrupt(ParseConfig<v1::PodSandboxConfig>(record.config), "sandbox", record.id,
                   "config");
}

Result<SandboxInfo> DecodeInfo(const SandboxRecord& record) {
  return OrCorrupt(SandboxInfoFromJson(record.runtime), "sandbox", record.id, "runtime state");
}

Result<v1::ContainerConfig> DecodeConfig(const ContainerRecord& record) {
  return OrCorrupt(ParseConfig<v1::ContainerConfig>(record.config), "container", record.id,
                   "config");
}

Result<ContainerInfo> DecodeInfo(const ContainerRecord& record) {
  return OrCorrupt(ContainerInfoFromJson(record.runtime), "container", record.id, "runtime state");
}

Result<Sandbox> DecodeSandbox(SandboxRecord record) {
  CR_ASSIGN_OR_RETURN(v1::PodSandboxConfig config, DecodeConfig(record));
  CR_ASSIGN_OR_RETURN(SandboxInfo info, DecodeInfo(record));
  return Sandbox{std::move(record), std::move(config), std::move(info)};
}

Result<Container> DecodeContainer(ContainerRecord record) {
  CR_ASSIGN_OR_RETURN(v1::ContainerConfig config, DecodeConfig(record));
  CR_ASSIGN_OR_RETURN(ContainerInfo info, DecodeInfo(record));
  return Container{std::move(record), std::move(config), std::move(info)};
}

Result<Sandbox> LoadSandbox(MetadataStore& store, const std::string& id) {
  CR_ASSIGN_OR_RETURN(SandboxRecord record, store.GetSandbox(id));
  return DecodeSandbox(std::move(record));
}

Result<void> EncodeConfig(const v1::PodSandboxConfig& config, SandboxRecord& record) {
  return SerializeConfig(config, record.config);
}

Result<void> EncodeConfig(const v1::ContainerConfig& config, ContainerRecord& record) {
  return SerializeConfig(config, record.config);
}

void EncodeInfo(const SandboxInfo& info, SandboxRecord& record) {
  record.runtime = SandboxInfoToJson(info);
}

void EncodeInfo(const ContainerInfo& info, ContainerRecord& record) {
  record.runtime = ContainerInfoToJson(info);
}

}  // namespace cricket::cri
