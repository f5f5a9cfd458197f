#include "cri/prometheus_config.h"

#include "common/host_port.h"
#include "common/toml_section.h"

namespace cricket::cri {

Result<MetricsAddress> ParseMetricsAddress(std::string_view address) {
  std::string_view path = address;
  if (path.starts_with("unix://")) {
    path.remove_prefix(7);
  }
  if (path.starts_with('/') || address.starts_with("unix:")) {
    if (!path.starts_with('/') || path.size() < 2 || path.find('\0') != std::string_view::npos) {
      return Error(Code::kInvalidArgument,
                   "expected unix://<absolute path>, got \"" + std::string(address) + "\"");
    }
    // sockaddr_un's sun_path holds 107 bytes and the NUL.
    if (path.size() > 107) {
      return Error(Code::kInvalidArgument,
                   "unix socket path longer than 107 bytes: \"" + std::string(path) + "\"");
    }
    return MetricsAddress::Unix(std::string(path));
  }
  auto tcp = ParseHostPort(address);
  if (!tcp.ok()) {
    return Error(
        Code::kInvalidArgument,
        "expected <ip>:<port>, [<ipv6>]:<port>, unix://<path> or an absolute path, got \"" +
            std::string(address) + "\"");
  }
  return MetricsAddress::Tcp(tcp->host, tcp->port);
}

Result<void> ApplyMetricsToml(const toml::table& section, std::string_view source,
                              MetricsConfig& config) {
  return ApplyKeys(source, "metrics", section,
                   [&](std::string_view key, const toml::node& node) -> Result<void> {
                     if (key != "address") {
                       return UnknownKey();
                     }
                     CR_ASSIGN_OR_RETURN(std::string address, TomlString(node));
                     if (!address.empty()) {
                       CR_RETURN_IF_ERROR(
                           ParseMetricsAddress(address));  // a typo stops start-up, naming the key
                     }
                     config.address = std::move(address);
                     return Ok();
                   });
}

toml::table MetricsToToml(const MetricsConfig& config) {
  return toml::table{{"address", config.address}};
}

}  // namespace cricket::cri
