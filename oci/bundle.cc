#include "oci/bundle.h"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>

#include "oci/spec_json.h"
#include "oci/spec_validate.h"

namespace cricket::oci {

Result<std::string> AbsoluteDir(const std::string& dir) {
  char resolved[PATH_MAX];
  if (::realpath(dir.c_str(), resolved) == nullptr) {
    return Error::FromErrno(errno, "bundle " + dir);
  }
  return std::string(resolved);
}

Result<Spec> LoadBundle(const std::string& bundle) {
  CR_ASSIGN_OR_RETURN(Spec spec, LoadSpec(bundle));
  ResolveBundlePaths(spec, bundle);
  CR_RETURN_IF_ERROR(ValidateSpec(spec));
  struct stat st {};
  if (::stat(spec.root->path.c_str(), &st) < 0) {
    return Error::FromErrno(errno, "root.path " + spec.root->path);
  }
  if (!S_ISDIR(st.st_mode)) {
    return Error(Code::kInvalidArgument, "root.path: " + spec.root->path + " is not a directory");
  }
  return spec;
}

}  // namespace cricket::oci
