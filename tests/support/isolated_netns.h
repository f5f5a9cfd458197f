#pragma once

// Moves the calling process (before it starts threads) into fresh network and mount
// namespaces with loopback up, so root network tests build bridges, veths and iptables rules
// that no one else sees and that vanish with the process, even when a test crashes. Returns
// false without root (tests then skip), and aborts if root cannot isolate.

namespace cricket::testing {

bool EnterIsolatedNetwork();

}  // namespace cricket::testing
