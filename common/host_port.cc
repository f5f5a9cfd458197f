#include "common/host_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>

namespace cricket {

Result<HostPort> ParseHostPort(std::string_view address) {
  auto bad = [&] {
    return Error(Code::kInvalidArgument,
                 "expected <ip>:<port> or [<ipv6>]:<port>, got \"" + std::string(address) + "\"");
  };
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    return bad();
  }
  std::string host(address.substr(0, colon));
  std::string_view port_text = address.substr(colon + 1);
  bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) {
    host = host.substr(1, host.size() - 2);
  }
  in6_addr addr{};
  bool valid_host = bracketed ? ::inet_pton(AF_INET6, host.c_str(), &addr) == 1
                              : ::inet_pton(AF_INET, host.c_str(), &addr) == 1;
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (!valid_host || port_text.empty() || ec != std::errc() ||
      end != port_text.data() + port_text.size() || port > 65535) {
    return bad();
  }
  return HostPort{host, static_cast<uint16_t>(port)};
}

}  // namespace cricket
