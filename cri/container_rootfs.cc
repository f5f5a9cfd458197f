// The image store behind ContainerRootfs: every call forwards to it or its snapshotter.

#include "cri/container_rootfs.h"

#include "storage/image_store.h"

namespace cricket::cri {
namespace {

class ImageStoreRootfs final : public ContainerRootfs {
 public:
  explicit ImageStoreRootfs(storage::ImageStore& images) : images_(images) {}

  Result<storage::Image> FindImage(const std::string& ref_or_id) const override {
    return images_.Status(ref_or_id);
  }
  Result<void> Prepare(const std::string& id, const std::string& chain_id) override {
    return images_.snapshotter().Prepare(id, chain_id);
  }
  Result<void> Mount(const std::string& id, const std::string& target,
                     const std::optional<storage::SnapshotIdmap>& idmap) override {
    return images_.snapshotter().Mount(id, target, idmap);
  }
  Result<void> Unmount(const std::string& target) override {
    return images_.snapshotter().Unmount(target);
  }
  Result<void> Remove(const std::string& id) override { return images_.snapshotter().Remove(id); }
  Result<storage::DiskUsage> Usage(const std::string& id) const override {
    return images_.snapshotter().Usage(id);
  }
  Result<std::string> UpperDir(const std::string& id) const override {
    CR_ASSIGN_OR_RETURN(storage::OverlayMount mount, images_.snapshotter().Mounts(id));
    return mount.upper_dir;
  }

 private:
  storage::ImageStore& images_;
};

}  // namespace

std::unique_ptr<ContainerRootfs> NewImageStoreRootfs(storage::ImageStore& images) {
  return std::make_unique<ImageStoreRootfs>(images);
}

}  // namespace cricket::cri
