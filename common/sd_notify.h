#pragma once

// sd_notify(3) without libsystemd: one datagram to the socket systemd names in NOTIFY_SOCKET
// (a path, or an abstract name written with a leading '@'). cricketd's unit is Type=notify:
// READY=1 once the gRPC socket serves, STOPPING=1 when it begins to shut down.

#include <string>
#include <string_view>

#include "common/result.h"

namespace cricket {

// Sends `state` (e.g. "READY=1") to $NOTIFY_SOCKET. Ok and nothing else when the variable is
// unset or empty (not started by systemd); kInvalidArgument for a value that is neither an
// absolute path nor '@'-abstract or is too long; errno codes when the send fails.
Result<void> SdNotify(std::string_view state);

// The same to an explicit socket address (`socket` as NOTIFY_SOCKET would hold it).
Result<void> SdNotifyTo(const std::string& socket, std::string_view state);

}  // namespace cricket
