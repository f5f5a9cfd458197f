#include "network/ipv4.h"

#include <arpa/inet.h>

#include <charconv>

namespace cricket::network {

Result<Ipv4> Ipv4::Parse(std::string_view text) {
  std::string copy(text);
  in_addr addr{};
  if (::inet_pton(AF_INET, copy.c_str(), &addr) != 1) {
    return Error(Code::kInvalidArgument, "invalid IPv4 address \"" + copy + "\"");
  }
  return Ipv4{ntohl(addr.s_addr)};
}

std::string Ipv4::ToString() const {
  in_addr addr{htonl(value)};
  char buf[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &addr, buf, sizeof(buf));
  return buf;
}

Result<Ipv4Cidr> Ipv4Cidr::Parse(std::string_view text) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return Error(Code::kInvalidArgument, "invalid CIDR " + quoted + ": missing /prefix");
  }
  auto ip = Ipv4::Parse(text.substr(0, slash));
  if (!ip.ok()) {
    return ip.error().Wrap("invalid CIDR " + quoted);
  }
  std::string_view prefix_text = text.substr(slash + 1);
  int prefix = -1;
  auto [end, ec] = std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), prefix);
  if (ec != std::errc() || end != prefix_text.data() + prefix_text.size() || prefix < 0 ||
      prefix > 30) {
    return Error(Code::kInvalidArgument,
                 "invalid CIDR " + quoted + ": prefix must be a number from 0 to 30");
  }
  Ipv4Cidr cidr{*ip, prefix};
  if ((ip->value & cidr.mask()) != ip->value) {
    return Error(Code::kInvalidArgument, "invalid CIDR " + quoted + ": host bits are set");
  }
  return cidr;
}

std::string Ipv4Cidr::ToString() const { return network.ToString() + "/" + std::to_string(prefix); }

}  // namespace cricket::network
