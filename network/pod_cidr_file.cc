#include "network/pod_cidr_file.h"

#include "common/files.h"

namespace cricket::network {
namespace {

std::string PodCidrPath(const std::string& dir) { return dir + "/pod-cidr"; }

}  // namespace

Result<std::optional<std::string>> LoadPodCidr(const std::string& dir) {
  auto text = ReadFile(PodCidrPath(dir));
  if (!text.ok()) {
    if (text.error().code() == Code::kNotFound) {
      return std::optional<std::string>();
    }
    return text.error();
  }
  std::string value = std::move(text).value();
  while (!value.empty() && value.back() == '\n') {
    value.pop_back();
  }
  return std::optional<std::string>(std::move(value));
}

Result<void> SavePodCidr(const std::string& dir, const std::string& pod_cidr) {
  CR_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  return WriteFileAtomic(PodCidrPath(dir), pod_cidr + "\n", 0600, Durability::kPowerLoss);
}

}  // namespace cricket::network
