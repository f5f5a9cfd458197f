#pragma once

// The gRPC face of ImagesAdmin (cricket.admin.v1.Images), registered on cricketd's socket
// beside the CRI services. Like cri/volumes_admin_adapter.h, the only images admin code that
// sees gRPC types: it turns the client stream into a ByteSource, the server streams into a
// ByteSink and a progress callback, and serves every call through ServeCall.

#include <grpcpp/grpcpp.h>

#include "cri/images_admin.h"
#include "cri/inflight_calls.h"
#include "cricket/admin/v1/images.grpc.pb.h"

namespace cricket::cri {

class ImagesAdminAdapter final : public admin::Images::Service {
 public:
  ImagesAdminAdapter(ImagesAdmin& admin, InflightCalls& calls) : admin_(admin), calls_(calls) {}

  grpc::Status Import(grpc::ServerContext* ctx,
                      grpc::ServerReader<admin::ImportImagesRequest>* reader,
                      admin::ImportImagesResponse* resp) override;
  grpc::Status Export(grpc::ServerContext* ctx, const admin::ExportImageRequest* req,
                      grpc::ServerWriter<admin::ExportImageChunk>* writer) override;
  grpc::Status Pull(grpc::ServerContext* ctx, const admin::PullImageRequest* req,
                    grpc::ServerWriter<admin::PullImageProgress>* writer) override;

 private:
  ImagesAdmin& admin_;
  InflightCalls& calls_;
};

}  // namespace cricket::cri
