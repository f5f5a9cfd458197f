#pragma once

// SystemdBus: the few calls of systemd's D-Bus API (org.freedesktop.systemd1.Manager) the
// systemd cgroup driver makes. The real one (NewSdBus, systemd_bus_sd.cc) speaks sd-bus to the
// system bus and lives in its own library, `oci_systemd`, linked only into cricketd: Debian
// ships libsystemd as a shared library only, and cricket-runtime and cricket-shim are static
// (oci/README.md "systemd cgroup driver"). Tests use a fake. Implementations are thread-safe.
//
// Codes: kNotFound for a unit systemd does not know, kDeadlineExceeded when a job does not end
// in time, kUnavailable when the bus cannot be reached, kInternal for other bus errors (the
// message carries systemd's error name).

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "common/result.h"

namespace cricket::oci {

// One unit property as D-Bus carries it: b, t, s, au (PIDs) or ay (AllowedCPUs bitmasks).
struct UnitProperty {
  using Value =
      std::variant<bool, uint64_t, std::string, std::vector<uint32_t>, std::vector<uint8_t>>;
  std::string name;
  Value value;

  bool operator==(const UnitProperty&) const = default;
};

// systemd's "infinity" for limits (MemoryMax, TasksMax, CPUQuotaPerSecUSec).
inline constexpr uint64_t kUnitInfinity = UINT64_MAX;

class SystemdBus {
 public:
  virtual ~SystemdBus() = default;
  // StartTransientUnit(name, "fail", properties) and waits until the unit is active (its job
  // done). kAlreadyExists when a unit of that name is loaded.
  virtual Result<void> StartTransientUnit(const std::string& unit,
                                          const std::vector<UnitProperty>& properties,
                                          std::chrono::milliseconds timeout) = 0;
  // SetUnitProperties(name, runtime=true, properties).
  virtual Result<void> SetUnitProperties(const std::string& unit,
                                         const std::vector<UnitProperty>& properties) = 0;
  // StopUnit(name, "replace") and waits until systemd no longer has the unit loaded (or it is
  // inactive). A unit systemd does not know is already stopped: Ok.
  virtual Result<void> StopUnit(const std::string& unit, std::chrono::milliseconds timeout) = 0;
  // The unit's ActiveState ("active", "inactive", "failed", ...); kNotFound when not loaded.
  virtual Result<std::string> ActiveState(const std::string& unit) = 0;
};

// The system bus through sd-bus (systemd_bus_sd.cc, library oci_systemd). kUnavailable when it
// cannot be reached.
Result<std::unique_ptr<SystemdBus>> NewSdBus();

}  // namespace cricket::oci
