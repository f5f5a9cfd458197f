#include "oci/cli_reexec.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "common/files.h"
#include "common/sealed_exe.h"
#include "common/unique_fd.h"

namespace cricket::oci::cli {

Result<void> RunFromSealedExe(char** argv, const std::string& scratch_dir) {
  const char* marker = std::getenv(kSealedEnv);
  const bool reexecuted = marker != nullptr && std::strcmp(marker, "1") == 0;
  ::unsetenv(kSealedEnv);  // not for hooks or anything else we start
  UniqueFd self(
      ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));  // NOLINT(cppcoreguidelines-pro-type-vararg)
  // A sealed memfd is trusted on sight (anyone may run us from one); a read-only overlay only
  // when we made it: a host binary could sit on an overlay root that is remounted rw later.
  if (self.valid() && IsSealedFd(self.get(), reexecuted)) {
    return Ok();
  }
  if (reexecuted) {
    return Error(Code::kInternal,
                 "re-executed from a sealed copy, but /proc/self/exe is not sealed");
  }
  std::error_code ec;
  const auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return Error(Code::kInternal, "cannot find this executable's own path: " + ec.message());
  }
  CR_RETURN_IF_ERROR(MakeDirs(scratch_dir, 0711));
  CR_ASSIGN_OR_RETURN(SealedExe sealed,
                      SealExecutable(path.string(), {.scratch_dir = scratch_dir}));
  ::setenv(kSealedEnv, "1", 1);
  return ExecSealed(sealed.fd.get(), argv, environ).Wrap("seal " + path.string());
}

}  // namespace cricket::oci::cli
