#include "cri/checkpoint_restore.h"

#include <filesystem>

#include "common/cleanup.h"
#include "common/files.h"
#include "common/log.h"
#include "cri/ids.h"

namespace cricket::cri {

RestoreSource::~RestoreSource() {
  if (owned_) {
    std::error_code ec;
    std::filesystem::remove_all(checkpoint_.dir, ec);
    if (ec) {
      log::Warn({}, "remove unpacked checkpoint {}: {}", checkpoint_.dir, ec.message());
    }
  }
}

Result<void> RestoreSource::ApplyTo(ContainerRootfs& rootfs, const std::string& id) const {
  CR_ASSIGN_OR_RETURN(std::string upper, rootfs.UpperDir(id));
  return ApplyRootfsDiff(checkpoint_, upper);
}

Result<std::unique_ptr<RestoreSource>> OpenRestoreSource(const CriDeps& deps,
                                                         const v1::ContainerConfig& request) {
  const std::string& archive = request.image().image();
  if (!IsCheckpointArchive(archive)) {
    return std::unique_ptr<RestoreSource>();
  }
  CR_RETURN_IF_ERROR(CriuReady());
  const std::string dir = deps.config->root + "/checkpoints/restore-" + NewId();
  CR_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  Cleanup remove_dir([&] {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  });
  if (auto extracted = ExtractArchive(archive, dir); !extracted.ok()) {
    return Error(Code::kInvalidArgument,
                 "config.image.image " + archive +
                     ": not a checkpoint archive: " + extracted.error().message());
  }
  CR_ASSIGN_OR_RETURN(ContainerCheckpoint checkpoint, ReadContainerCheckpoint(dir));
  v1::ContainerConfig config = RestoredConfig(request, checkpoint);
  remove_dir.Dismiss();
  return std::make_unique<RestoreSource>(std::move(checkpoint), std::move(config),
                                         /*owned=*/true);
}

Result<std::unique_ptr<RestoreSource>> RestoreSourceFromDir(const std::string& dir,
                                                            const v1::ContainerConfig& request) {
  CR_ASSIGN_OR_RETURN(ContainerCheckpoint checkpoint, ReadContainerCheckpoint(dir));
  v1::ContainerConfig config = RestoredConfig(request, checkpoint);
  return std::make_unique<RestoreSource>(std::move(checkpoint), std::move(config),
                                         /*owned=*/false);
}

}  // namespace cricket::cri
