// PullImage: fetch an image from its registry (mirrors and credentials as configured).

#include "common/log.h"
#include "cri/service.h"

namespace cricket::cri {

Result<void> CriService::PullImage(const v1::PullImageRequest& req, v1::PullImageResponse& resp,
                                   Deadline deadline) {
  const std::string& ref = req.image().image();
  if (ref.empty()) {
    return Error(Code::kInvalidArgument, "image.image is empty");
  }
  storage::AuthConfig auth;
  auth.username = req.auth().username();
  auth.password = req.auth().password();
  auth.auth = req.auth().auth();
  auth.identity_token = req.auth().identity_token();
  auth.registry_token = req.auth().registry_token();
  CR_ASSIGN_OR_RETURN(storage::Image image, deps_.images->Pull(ref, auth, deadline));
  // CRI: image_ref is what later calls use to name this exact image; the id is stable.
  resp.set_image_ref(image.id);
  log::Info({.image = ref}, "pulled {} as {}", ref, image.id);
  return Ok();
}

}  // namespace cricket::cri
