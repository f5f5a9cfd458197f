// storage::VolumeManager behind PortableVolumes: every call forwards to it.

#include "cri/portable_volumes.h"

namespace cricket::cri {
namespace {

class VolumeManagerVolumes final : public PortableVolumes {
 public:
  explicit VolumeManagerVolumes(storage::VolumeManager& manager) : manager_(manager) {}

  Result<std::string> Attach(const std::string& volume, const std::string& pod,
                             const std::string& ctr) override {
    return manager_.Attach(volume, pod, ctr);
  }
  Result<void> DetachContainer(const std::string& ctr, bool publish) override {
    return manager_.DetachContainer(ctr, publish);
  }
  Result<void> DetachPod(const std::string& pod) override { return manager_.DetachPod(pod); }
  Result<void> SnapshotContainer(const std::string& ctr) override {
    return manager_.SnapshotContainer(ctr);
  }
  std::vector<storage::AttachedVolume> AttachedToPod(const std::string& pod) const override {
    return manager_.AttachedToPod(pod);
  }

 private:
  storage::VolumeManager& manager_;
};

}  // namespace

std::unique_ptr<PortableVolumes> NewVolumeManagerVolumes(storage::VolumeManager& manager) {
  return std::make_unique<VolumeManagerVolumes>(manager);
}

}  // namespace cricket::cri
