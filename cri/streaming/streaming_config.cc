#include "cri/streaming/streaming_config.h"

#include "common/host_port.h"
#include "common/toml_section.h"

namespace cricket::cri::streaming {
namespace {

Result<void> SetStreamingKey(std::string_view key, const toml::node& node, StreamingConfig& s) {
  if (key == "max_connections") {
    CR_ASSIGN_OR_RETURN(s.max_connections, TomlIntIn(node, 1, 65536));
    return Ok();
  }
  if (key != "address") {
    return UnknownKey();
  }
  CR_ASSIGN_OR_RETURN(std::string address, TomlString(node));
  CR_RETURN_IF_ERROR(ParseHostPort(address));  // a typo stops start-up, naming the key
  s.address = std::move(address);
  return Ok();
}

}  // namespace

Result<void> ApplyStreamingToml(const toml::table& section, std::string_view source,
                                StreamingConfig& config) {
  return ApplyKeys(source, "streaming", section, [&](std::string_view key, const toml::node& node) {
    return SetStreamingKey(key, node, config);
  });
}

toml::table StreamingToToml(const StreamingConfig& config) {
  return toml::table{{"address", config.address}, {"max_connections", config.max_connections}};
}

}  // namespace cricket::cri::streaming
