#include "storage/registry_config.h"

#include <arpa/inet.h>

namespace cricket::storage {
namespace {

// "host:port" -> "host"; "[::1]:5000" -> "::1".
std::string HostOnly(const std::string& host_port) {
  if (!host_port.empty() && host_port.front() == '[') {
    size_t close = host_port.find(']');
    return close == std::string::npos ? host_port : host_port.substr(1, close - 1);
  }
  if (host_port.find(':') != host_port.rfind(':')) {
    return host_port;  // a bare IPv6 address
  }
  return host_port.substr(0, host_port.find(':'));
}

const RegistryHostConfig* Find(const RegistryConfig& config, const std::string& host) {
  auto it = config.hosts.find(host);
  return it == config.hosts.end() ? nullptr : &it->second;
}

Result<Endpoint> MirrorEndpoint(const RegistryConfig& config, const std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return Error(Code::kInvalidArgument,
                 "registry mirror \"" + url + "\" needs http:// or https://");
  }
  std::string scheme = url.substr(0, scheme_end);
  std::string rest = url.substr(scheme_end + 3);
  std::string host = rest.substr(0, rest.find('/'));
  if (host.empty() || (scheme != "http" && scheme != "https")) {
    return Error(Code::kInvalidArgument, "malformed registry mirror \"" + url + "\"");
  }
  const RegistryHostConfig* own = Find(config, host);
  bool insecure = own != nullptr && own->insecure;
  if (scheme == "http" && !IsLoopbackHost(host) && !insecure) {
    return Error(
        Code::kInvalidArgument,
        "registry mirror \"" + url + "\" uses plain HTTP but is neither loopback nor insecure");
  }
  Endpoint e;
  e.base_url = url;
  while (!e.base_url.empty() && e.base_url.back() == '/') {
    e.base_url.pop_back();
  }
  e.host = host;
  e.is_mirror = true;
  e.skip_tls_verify = insecure;
  return e;
}

}  // namespace

bool IsLoopbackHost(const std::string& host_port) {
  std::string host = HostOnly(host_port);
  if (host == "localhost") {
    return true;
  }
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  return ::inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

Result<std::vector<Endpoint>> ResolveEndpoints(const RegistryConfig& config,
                                               const std::string& domain) {
  std::vector<Endpoint> out;
  const RegistryHostConfig* host = Find(config, domain);
  if (host != nullptr) {
    for (const std::string& url : host->mirrors) {
      CR_ASSIGN_OR_RETURN(Endpoint e, MirrorEndpoint(config, url));
      out.push_back(std::move(e));
    }
    if (host->mirror_only) {
      if (out.empty()) {
        return Error(Code::kFailedPrecondition,
                     "registry " + domain + " is mirror-only but has no mirrors");
      }
      return out;
    }
  }
  Endpoint origin;
  bool insecure = host != nullptr && host->insecure;
  if (domain == "docker.io") {
    origin.host = "registry-1.docker.io";
  } else {
    origin.host = domain;
  }
  bool plain = insecure || IsLoopbackHost(origin.host);
  origin.base_url = (plain ? "http://" : "https://") + origin.host;
  origin.skip_tls_verify = insecure;
  out.push_back(std::move(origin));
  return out;
}

}  // namespace cricket::storage
