// PullImage: fetch an image from its registry (mirrors and credentials as configured).

#include <chrono>

#include "common/log.h"
#include "cri/prometheus_metrics.h"
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
  const auto started = std::chrono::steady_clock::now();
  auto pulled = deps_.images->Pull(ref, auth, deadline);
  if (deps_.metrics != nullptr) {
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    deps_.metrics->RecordImagePull(pulled.ok(), pulled.ok() ? pulled->size_bytes : 0, took.count());
  }
  if (!pulled.ok()) {
    return pulled.error();
  }
  const storage::Image& image = *pulled;
  // CRI: image_ref is what later calls use to name this exact image; the id is stable.
  resp.set_image_ref(image.id);
  log::Info({.image = ref}, "pulled {} as {}", ref, image.id);
  return Ok();
}

}  // namespace cricket::cri
