#include "common/helper_binary.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

namespace cricket {

Result<std::string> FindHelperBinary(const std::string& name, const std::string& build_subdir) {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return Error(Code::kInternal, "cannot find this executable's own path: " + ec.message());
  }
  const auto dir = self.parent_path();
  for (const auto& candidate : {dir / name, dir.parent_path() / build_subdir / name}) {
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
  }
  return Error(Code::kFailedPrecondition, name + " not found beside " + self.string());
}

}  // namespace cricket
