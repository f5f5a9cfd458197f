#pragma once

// Which CRI mounts of a container are portable volumes (issue #7).
//
// A mount whose host_path is exactly <portable_root>/<name> is the portable volume <name>: a
// plain Kubernetes hostPath volume with that path works with no kubelet change. Its working copy
// (storage::VolumeManager) is bind-mounted instead of the host path. Paths below a volume
// (<portable_root>/<name>/sub) are refused: the sub-path would be resolved inside data the
// containers control (a symlink planted there could point anywhere on the host).
//
// Paths that play tricks are refused with kInvalidArgument naming mounts[i].host_path: ".."
// components in a path that starts with or leads into the portable root, the portable root
// itself, and a path outside it that reaches it through a symlink.
//
// The pod annotation cricket.io/portable-volumes = "a,b" declares the pod's portable volumes:
// every name must be valid, and with the annotation present, a mount under the portable root
// must name one of them (a typo then fails instead of silently creating a new volume).

#include <string>
#include <vector>

#include "common/result.h"
#include "runtime/v1/api.pb.h"

namespace cricket::cri {

inline constexpr char kPortableVolumesAnnotation[] = "cricket.io/portable-volumes";

struct PortableMount {
  int index = 0;  // into ContainerConfig.mounts
  std::string volume;
};

Result<std::vector<PortableMount>> FindPortableMounts(const runtime::v1::ContainerConfig& config,
                                                      const runtime::v1::PodSandboxConfig& pod,
                                                      const std::string& portable_root);

}  // namespace cricket::cri
