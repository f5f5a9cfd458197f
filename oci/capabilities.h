#pragma once

// process.capabilities -> the five capability sets as bit masks, using libcap's names. Pure, so
// the translation is unit-tested; the container's init applies the masks (oci/child_init.cc).

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "oci/spec.h"

namespace cricket::oci {

struct CapabilityMasks {
  uint64_t bounding = 0;
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
  uint64_t ambient = 0;
};

// kInvalidArgument naming the field ("process.capabilities.bounding[2]") for an unknown name.
// Names this kernel does not know (above cap_last_cap) are skipped, as runc does.
Result<CapabilityMasks> ResolveCapabilities(const Capabilities& caps, int last_cap);

// The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap).
int LastCap();

}  // namespace cricket::oci
