#include "storage/volumes/coordination/etcd_endpoints.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>

namespace cricket::storage {
namespace {

enum class Family { kIpv4, kIpv6, kName };

struct HostPort {
  std::string address;  // "127.0.0.1:2379", "[::1]:2379", "etcd.local:2379"
  Family family;
};

Result<HostPort> ParseEndpoint(const std::string& endpoint) {
  auto bad = [&](const std::string& why) {
    return Error(Code::kInvalidArgument, "etcd endpoint \"" + endpoint + "\" " + why);
  };
  constexpr std::string_view kScheme = "http://";
  if (endpoint.starts_with("https://")) {
    return bad("uses https, which is not supported yet (use http://)");
  }
  if (!endpoint.starts_with(kScheme)) {
    return bad("must look like http://host:port");
  }
  std::string rest = endpoint.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') {
    rest.pop_back();
  }
  if (rest.find('/') != std::string::npos) {
    return bad("must not have a path");
  }
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return bad("must name a host and a port");
  }
  std::string host = rest.substr(0, colon);
  std::string port = rest.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    return bad("has a bad port");
  }
  std::array<unsigned char, 16> buf{};
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    if (::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), buf.data()) != 1) {
      return bad("has a bad IPv6 address");
    }
    return HostPort{rest, Family::kIpv6};
  }
  if (::inet_pton(AF_INET, host.c_str(), buf.data()) == 1) {
    return HostPort{rest, Family::kIpv4};
  }
  if (host.find_first_of("[]:") != std::string::npos) {
    return bad("has a bad host (IPv6 addresses go in brackets)");
  }
  return HostPort{rest, Family::kName};
}

}  // namespace

Result<std::string> EtcdChannelTarget(const std::vector<std::string>& endpoints) {
  if (endpoints.empty()) {
    return Error(Code::kInvalidArgument, "etcd volume coordination needs at least one endpoint");
  }
  std::vector<HostPort> parsed;
  for (const std::string& endpoint : endpoints) {
    CR_ASSIGN_OR_RETURN(HostPort hp, ParseEndpoint(endpoint));
    parsed.push_back(std::move(hp));
  }
  if (parsed.size() == 1 && parsed[0].family == Family::kName) {
    return "dns:///" + parsed[0].address;
  }
  std::string target = parsed[0].family == Family::kIpv6 ? "ipv6:" : "ipv4:";
  for (size_t i = 0; i < parsed.size(); ++i) {
    if (parsed[i].family != parsed[0].family || parsed[i].family == Family::kName) {
      return Error(Code::kInvalidArgument,
                   "etcd endpoint \"" + endpoints[i] +
                       "\": several endpoints must all be IPv4 or all IPv6 addresses");
    }
    target += (i > 0 ? "," : "") + parsed[i].address;
  }
  return target;
}

}  // namespace cricket::storage
