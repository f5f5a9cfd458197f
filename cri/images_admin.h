#pragma once

// ImagesAdmin: the transport-free handlers of cricket.admin.v1.Images (cricketctl images
// import|export|pull). cri/images_admin_adapter.cc serves them over gRPC. Thread-safe.

#include <functional>

#include "common/result.h"
#include "cricket/admin/v1/images.pb.h"
#include "storage/image_archive.h"
#include "storage/image_store.h"

namespace cricket::cri {

namespace admin = ::cricket::admin::v1;

class ImagesAdmin {
 public:
  explicit ImagesAdmin(storage::ImageStore& images) : images_(images) {}

  // The archive read from `source`: ImageStore::Import's codes.
  Result<void> Import(const storage::ByteSource& source, admin::ImportImagesResponse& resp);
  // kInvalidArgument for an empty image, kNotFound for an unknown one.
  Result<void> Export(const admin::ExportImageRequest& req, const storage::ByteSink& sink);
  // Progress messages to `send` while it runs, then one with the image. Anonymous registry
  // access with the configured mirrors; codes as ImageStore::Pull.
  Result<void> Pull(const admin::PullImageRequest& req,
                    const std::function<void(const admin::PullImageProgress&)>& send);

 private:
  storage::ImageStore& images_;
};

}  // namespace cricket::cri
