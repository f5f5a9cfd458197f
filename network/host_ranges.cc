#include "network/host_ranges.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <bit>
#include <charconv>
#include <memory>

#include "common/files.h"
#include "common/text.h"

namespace cricket::network {
namespace {

// /proc/net/route prints each __be32 as a host-order "%08X".
std::optional<uint32_t> ParseRouteHex(std::string_view text) {
  uint32_t raw = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), raw, 16);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return ntohl(raw);
}

}  // namespace

std::string HostRange::Describe() const {
  const std::string cidr = range.network.ToString() + "/" + std::to_string(range.prefix);
  return kind == Kind::kRoute ? "route " + cidr + " dev " + device
                              : "address " + cidr + " on " + device;
}

Result<std::vector<HostRange>> ParseProcNetRoute(std::string_view text) {
  std::vector<HostRange> out;
  const std::vector<std::string> lines = Split(text, '\n');
  // lines[0] is the header ("Iface Destination Gateway ...").
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.empty()) {
      continue;
    }
    std::vector<std::string_view> words = Words(line);
    std::optional<uint32_t> dest;
    std::optional<uint32_t> mask;
    if (words.size() >= 8) {
      dest = ParseRouteHex(words[1]);
      mask = ParseRouteHex(words[7]);
    }
    if (!dest || !mask) {
      return Error(Code::kInvalidArgument, "unexpected line in /proc/net/route: \"" + line + "\"");
    }
    HostRange route;
    route.device = std::string(words[0]);
    route.range.prefix = std::popcount(*mask);
    route.range.network = Ipv4{*dest & route.range.mask()};
    out.push_back(std::move(route));
  }
  return out;
}

Result<std::vector<HostRange>> ListHostRanges() {
  CR_ASSIGN_OR_RETURN(std::string routes_text, ReadFile("/proc/net/route"));
  CR_ASSIGN_OR_RETURN(std::vector<HostRange> out, ParseProcNetRoute(routes_text));
  ifaddrs* raw = nullptr;
  if (::getifaddrs(&raw) != 0) {
    return Error::FromErrno(errno, "list interface addresses");
  }
  std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> addrs(raw, &::freeifaddrs);
  for (const ifaddrs* it = addrs.get(); it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET ||
        it->ifa_netmask == nullptr) {
      continue;
    }
    HostRange address;
    address.kind = HostRange::Kind::kAddress;
    address.device = it->ifa_name;
    address.range.network =
        Ipv4{ntohl(reinterpret_cast<const sockaddr_in*>(it->ifa_addr)->sin_addr.s_addr)};
    address.range.prefix = std::popcount(
        ntohl(reinterpret_cast<const sockaddr_in*>(it->ifa_netmask)->sin_addr.s_addr));
    out.push_back(std::move(address));
  }
  return out;
}

std::optional<HostRange> FindOverlap(const Ipv4Cidr& candidate, const std::vector<HostRange>& host,
                                     std::string_view own_bridge) {
  for (const HostRange& used : host) {
    if (used.device == own_bridge ||
        (used.kind == HostRange::Kind::kRoute && used.range.prefix == 0)) {
      continue;
    }
    // An address counts with its own subnet: the node reaches that whole subnet through it.
    Ipv4Cidr used_net{{used.range.network.value & used.range.mask()}, used.range.prefix};
    if (candidate.Overlaps(used_net)) {
      return used;
    }
  }
  return std::nullopt;
}

}  // namespace cricket::network
