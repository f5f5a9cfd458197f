#include "cri/volumes_admin.h"

#include <map>

namespace cricket::cri {
namespace {

void FillAttached(const storage::AttachedVolume& v, admin::Volume& out) {
  out.set_name(v.volume);
  out.set_attached_here(true);
  out.set_path(v.path);
  out.set_stale(v.stale);
  out.set_stale_reason(v.stale_reason);
  for (const auto& [ctr, pod] : v.users) {
    (*out.mutable_users())[ctr] = pod;
  }
  out.set_snapshots(v.snapshots);
  out.set_last_snapshot_unix_ms(v.last_snapshot_unix_ms);
  out.set_last_error(v.last_error);
  out.set_restore_bytes_downloaded(v.restore_bytes_downloaded);
  out.set_bytes_uploaded(v.bytes_uploaded);
  out.set_last_snapshot_bytes_uploaded(v.last_snapshot_bytes_uploaded);
  if (out.owner().empty() && !v.stale) {
    out.set_owner(v.lease.node);
    out.set_token(v.lease.token);
  }
  if (out.head().empty()) {
    out.set_head(v.head);
  }
}

}  // namespace

Result<void> VolumesAdmin::List(const admin::ListVolumesRequest& /*req*/,
                                admin::ListVolumesResponse& resp) {
  CR_ASSIGN_OR_RETURN(auto owners, volumes_.List());
  std::map<std::string, admin::Volume> rows;
  for (const auto& o : owners) {
    admin::Volume& row = rows[o.volume];
    row.set_name(o.volume);
    row.set_owner(o.node);
    row.set_token(o.token);
    if (o.head) {
      row.set_head(o.head->manifest_digest);
      row.set_head_token(o.head->token);
    }
  }
  for (const auto& v : volumes_.Attached()) {
    FillAttached(v, rows[v.volume]);
  }
  resp.set_node(volumes_.node());
  for (auto& [name, row] : rows) {
    *resp.add_volumes() = std::move(row);
  }
  return Ok();
}

Result<void> VolumesAdmin::Inspect(const admin::InspectVolumeRequest& req,
                                   admin::InspectVolumeResponse& resp) {
  CR_RETURN_IF_ERROR(storage::ValidateVolumeName(req.name()));
  admin::ListVolumesResponse all;
  CR_RETURN_IF_ERROR(List({}, all));
  for (const auto& v : all.volumes()) {
    if (v.name() == req.name()) {
      *resp.mutable_volume() = v;
      return Ok();
    }
  }
  return Error(Code::kNotFound, "volume " + req.name() + " not found");
}

Result<void> VolumesAdmin::Snapshot(const admin::SnapshotVolumeRequest& req,
                                    admin::SnapshotVolumeResponse& resp) {
  CR_ASSIGN_OR_RETURN(storage::VolumeSnapshotReport report, volumes_.SnapshotNow(req.name()));
  resp.set_manifest_digest(report.manifest_digest);
  resp.set_new_layer(report.new_layer);
  resp.set_bytes_uploaded(report.bytes_uploaded);
  resp.set_layer_count(report.layer_count);
  return Ok();
}

Result<void> VolumesAdmin::Release(const admin::ReleaseVolumeRequest& req,
                                   admin::ReleaseVolumeResponse& /*resp*/) {
  return volumes_.Release(req.name());
}

}  // namespace cricket::cri
