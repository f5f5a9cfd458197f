// RemoveImage: drop a name or a whole image, then collect what nothing uses.

#include "common/log.h"
#include "cri/service.h"

namespace cricket::cri {

Result<void> CriService::RemoveImage(const v1::RemoveImageRequest& req,
                                     v1::RemoveImageResponse& /*resp*/) {
  const std::string& ref = req.image().image();
  if (ref.empty()) {
    return Error(Code::kInvalidArgument, "image.image is empty");
  }
  // CRI: removing an image that does not exist is OK; ImageStore::Remove already is.
  CR_RETURN_IF_ERROR(deps_.images->Remove(ref));
  log::Info({.image = ref}, "removed image {}", ref);
  return Ok();
}

}  // namespace cricket::cri
