#pragma once

// The pod CIDR kubelet last sent (UpdateRuntimeConfig), kept in `<dir>/pod-cidr` under
// cricketd's root so that a restarted cricketd serves it before kubelet calls again (kubelet
// only calls when the CIDR it knows changes).

#include <optional>
#include <string>

#include "common/result.h"

namespace cricket::network {

// nullopt when none was saved. The caller parses the text (ParsePodCidrs).
Result<std::optional<std::string>> LoadPodCidr(const std::string& dir);

// Replaces the saved CIDR atomically (temp file + fsync + rename).
Result<void> SavePodCidr(const std::string& dir, const std::string& pod_cidr);

}  // namespace cricket::network
