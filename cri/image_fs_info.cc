// ImageFsInfo: how much the image and container filesystems hold.

#include <chrono>

#include "common/clock.h"
#include "cri/service.h"

namespace cricket::cri {
namespace {

void Fill(const std::string& path, const storage::DiskUsage& usage, int64_t now_ns,
          v1::FilesystemUsage& out) {
  out.set_timestamp(now_ns);
  out.mutable_fs_id()->set_mountpoint(path);
  out.mutable_used_bytes()->set_value(static_cast<uint64_t>(usage.used_bytes));
  out.mutable_inodes_used()->set_value(static_cast<uint64_t>(usage.inodes_used));
}

}  // namespace

Result<void> CriService::ImageFsInfo(const v1::ImageFsInfoRequest& /*req*/,
                                     v1::ImageFsInfoResponse& resp) {
  CR_ASSIGN_OR_RETURN(storage::FsInfo info, deps_.images->GetFsInfo());
  const int64_t now_ns = NowUnixNanos();
  Fill(info.image_fs_path, info.image_fs, now_ns, *resp.add_image_filesystems());
  Fill(info.container_fs_path, info.container_fs, now_ns, *resp.add_container_filesystems());
  return Ok();
}

}  // namespace cricket::cri
