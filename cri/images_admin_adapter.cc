#include "cri/images_admin_adapter.h"

#include <string>
#include <string_view>

#include "common/log.h"
#include "cri/grpc_adapter.h"

namespace cricket::cri {
namespace {

// Export chunks: large enough to keep the per-message cost small, well under the 16 MiB limit.
constexpr size_t kExportChunkBytes = 1 << 20;

}  // namespace

grpc::Status ImagesAdminAdapter::Import(grpc::ServerContext* ctx,
                                        grpc::ServerReader<admin::ImportImagesRequest>* reader,
                                        admin::ImportImagesResponse* resp) {
  admin::ImportImagesRequest req;  // the chunk the ByteSource's view points into
  storage::ByteSource source = [&]() -> Result<std::string_view> {
    while (reader->Read(&req)) {
      if (!req.chunk().empty()) {
        return std::string_view(req.chunk());
      }
    }
    if (ctx->IsCancelled()) {
      return Error(Code::kCancelled, "import: the client cancelled the upload");
    }
    return std::string_view();
  };
  return ServeCall(calls_, log::Fields{.rpc = "admin.Images/Import"},
                   [&] { return admin_.Import(source, *resp); });
}

grpc::Status ImagesAdminAdapter::Export(grpc::ServerContext* /*ctx*/,
                                        const admin::ExportImageRequest* req,
                                        grpc::ServerWriter<admin::ExportImageChunk>* writer) {
  // libarchive writes in 10 KiB blocks: gathered into larger messages.
  std::string pending;
  auto flush = [&]() -> Result<void> {
    admin::ExportImageChunk chunk;
    chunk.set_chunk(std::move(pending));
    pending.clear();
    if (!writer->Write(chunk)) {
      return Error(Code::kCancelled, "export: the client went away");
    }
    return Ok();
  };
  storage::ByteSink sink = [&](std::string_view data) -> Result<void> {
    pending.append(data);
    return pending.size() >= kExportChunkBytes ? flush() : Ok();
  };
  return ServeCall(calls_, log::Fields{.rpc = "admin.Images/Export", .image = req->image()},
                   [&]() -> Result<void> {
                     CR_RETURN_IF_ERROR(admin_.Export(*req, sink));
                     return pending.empty() ? Result<void>(Ok()) : flush();
                   });
}

grpc::Status ImagesAdminAdapter::Pull(grpc::ServerContext* /*ctx*/,
                                      const admin::PullImageRequest* req,
                                      grpc::ServerWriter<admin::PullImageProgress>* writer) {
  // A client that stops reading does not stop the pull (the image is wanted anyway, as with
  // CRI PullImage); its progress messages are dropped.
  auto send = [&](const admin::PullImageProgress& msg) { (void)writer->Write(msg); };
  return ServeCall(calls_, log::Fields{.rpc = "admin.Images/Pull", .image = req->image()},
                   [&] { return admin_.Pull(*req, send); });
}

}  // namespace cricket::cri
