#include "network/pod_cidr.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>

#include "common/text.h"

namespace cricket::network {
namespace {

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// An IPv6 range: a valid address, a prefix 0..128 and no host bits.
Result<void> CheckIpv6Cidr(const std::string& text) {
  const std::string quoted = "invalid CIDR \"" + text + "\"";
  size_t slash = text.find('/');
  if (slash == std::string::npos) {
    return Error(Code::kInvalidArgument, quoted + ": missing /prefix");
  }
  std::array<unsigned char, 16> addr{};
  if (::inet_pton(AF_INET6, text.substr(0, slash).c_str(), addr.data()) != 1) {
    return Error(Code::kInvalidArgument, quoted + ": invalid IPv6 address");
  }
  int prefix = -1;
  const char* begin = text.data() + slash + 1;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, prefix);
  if (ec != std::errc() || ptr != end || begin == end || prefix < 0 || prefix > 128) {
    return Error(Code::kInvalidArgument, quoted + ": prefix must be a number from 0 to 128");
  }
  for (int bit = prefix; bit < 128; ++bit) {
    if ((addr[bit / 8] >> (7 - bit % 8)) & 1) {
      return Error(Code::kInvalidArgument, quoted + ": host bits are set");
    }
  }
  return Ok();
}

}  // namespace

std::string PodCidrs::ToString() const {
  std::string out;
  for (const auto& range : ranges) {
    out += out.empty() ? range : "," + range;
  }
  return out;
}

std::vector<std::string> PodCidrs::DefaultRoutes() const {
  std::vector<std::string> routes;
  if (ipv4) {
    routes.emplace_back("0.0.0.0/0");
  }
  if (has_ipv6) {
    routes.emplace_back("::/0");
  }
  return routes;
}

Result<PodCidrs> ParsePodCidrs(std::string_view text) {
  PodCidrs out;
  for (const std::string& piece : Split(text, ',')) {
    std::string range(TrimSpaces(piece));
    if (range.empty()) {
      return Error(Code::kInvalidArgument,
                   "invalid CIDR \"" + std::string(text) + "\": empty range in the list");
    }
    if (range.find(':') != std::string::npos) {
      CR_RETURN_IF_ERROR(CheckIpv6Cidr(range));
      out.has_ipv6 = true;
    } else {
      CR_ASSIGN_OR_RETURN(Ipv4Cidr cidr, Ipv4Cidr::Parse(range));
      if (!out.ipv4) {
        out.ipv4 = cidr;
      }
    }
    out.ranges.push_back(std::move(range));
  }
  return out;
}

}  // namespace cricket::network
