#include "cri/images_admin.h"

#include "storage/image_export.h"

namespace cricket::cri {
namespace {

void Fill(const storage::Image& image, admin::ImportedImage& out) {
  out.set_id(image.id);
  for (const std::string& t : image.repo_tags) {
    out.add_repo_tags(t);
  }
  for (const std::string& d : image.repo_digests) {
    out.add_repo_digests(d);
  }
  out.set_size_bytes(image.size_bytes);
}

}  // namespace

Result<void> ImagesAdmin::Import(const storage::ByteSource& source,
                                 admin::ImportImagesResponse& resp) {
  CR_ASSIGN_OR_RETURN(std::vector<storage::Image> images, images_.Import(source));
  for (const storage::Image& image : images) {
    Fill(image, *resp.add_images());
  }
  return Ok();
}

Result<void> ImagesAdmin::Export(const admin::ExportImageRequest& req,
                                 const storage::ByteSink& sink) {
  if (req.image().empty()) {
    return Error(Code::kInvalidArgument, "image: empty reference");
  }
  return storage::ExportImage(images_, req.image(), sink);
}

Result<void> ImagesAdmin::Pull(const admin::PullImageRequest& req,
                               const std::function<void(const admin::PullImageProgress&)>& send) {
  if (req.image().empty()) {
    return Error(Code::kInvalidArgument, "image: empty reference");
  }
  auto observer = [&](const storage::PullProgress& p) {
    admin::PullImageProgress msg;
    for (size_t i = 0; i < p.layers.size(); ++i) {
      admin::LayerProgress* layer = msg.add_layers();
      layer->set_digest(p.layers[i].digest);
      layer->set_size_bytes(p.layers[i].size);
      layer->set_fetched_bytes(p.fetched_bytes[i]);
      layer->set_done(p.done[i]);
    }
    send(msg);
  };
  CR_ASSIGN_OR_RETURN(storage::Image image,
                      images_.Pull(req.image(), {}, storage::Deadline::max(), observer));
  admin::PullImageProgress last;
  Fill(image, *last.mutable_image());
  send(last);
  return Ok();
}

}  // namespace cricket::cri
