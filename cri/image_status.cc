// ImageStatus and ListImages: read-only views of the image store.

#include <nlohmann/json.hpp>

#include "cri/service.h"

namespace cricket::cri {
namespace {

nlohmann::json VerboseInfo(const storage::Image& image) {
  const storage::ImageConfig& c = image.config;
  return {
      {"id", image.id},
      {"target", image.target_digest},
      {"manifest", image.manifest_digest},
      {"chainId", image.chain_id},
      {"pulledAt", image.pulled_at_unix},
      {"config",
       {{"os", c.os},
        {"architecture", c.architecture},
        {"user", c.user},
        {"env", c.env},
        {"entrypoint", c.entrypoint},
        {"cmd", c.cmd},
        {"workingDir", c.working_dir},
        {"stopSignal", c.stop_signal},
        {"volumes", c.volumes},
        {"labels", c.labels},
        {"diffIds", c.diff_ids}}},
  };
}

}  // namespace

void ToCriImage(const storage::Image& image, v1::Image& out) {
  out.set_id(image.id);
  for (const auto& tag : image.repo_tags) {
    out.add_repo_tags(tag);
  }
  for (const auto& digest : image.repo_digests) {
    out.add_repo_digests(digest);
  }
  out.set_size(static_cast<uint64_t>(image.size_bytes));
  storage::ImageUser user = storage::ParseImageUser(image.config.user);
  if (user.uid) {
    out.mutable_uid()->set_value(*user.uid);
  } else {
    out.set_username(user.username);
  }
  out.mutable_spec()->set_image(image.id);
  out.set_pinned(image.pinned);
}

Result<void> CriService::ImageStatus(const v1::ImageStatusRequest& req,
                                     v1::ImageStatusResponse& resp) {
  const std::string& ref = req.image().image();
  if (ref.empty()) {
    return Error(Code::kInvalidArgument, "image.image is empty");
  }
  auto image = deps_.images->Status(ref);
  if (!image.ok()) {
    // CRI: an image that is not present is an empty response, not an error.
    return image.error().code() == Code::kNotFound ? Ok() : Result<void>(image.error());
  }
  ToCriImage(*image, *resp.mutable_image());
  if (req.verbose()) {
    (*resp.mutable_info())["info"] = VerboseInfo(*image).dump();
  }
  return Ok();
}

Result<void> CriService::ListImages(const v1::ListImagesRequest& req,
                                    v1::ListImagesResponse& resp) {
  return ListImagesInto(req.filter(), [&]() -> Result<v1::Image*> { return resp.add_images(); });
}

Result<void> CriService::ListImagesInto(const v1::ImageFilter& filter,
                                        const ItemSlot<v1::Image>& slot) {
  const std::string& ref = filter.image().image();
  if (!ref.empty()) {
    auto image = deps_.images->Status(ref);
    if (image.ok()) {
      CR_ASSIGN_OR_RETURN(v1::Image * item, slot());
      ToCriImage(*image, *item);
      return Ok();
    }
    return image.error().code() == Code::kNotFound ? Ok() : Result<void>(image.error());
  }
  CR_ASSIGN_OR_RETURN(auto images, deps_.images->List());
  for (const auto& image : images) {
    CR_ASSIGN_OR_RETURN(v1::Image * item, slot());
    ToCriImage(image, *item);
  }
  return Ok();
}

}  // namespace cricket::cri
