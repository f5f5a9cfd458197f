#include "cri/runtime_handler_config.h"

#include "common/toml_section.h"

namespace cricket::cri {
namespace {

Result<void> SetRuntimeKey(std::string_view key, const toml::node& node,
                           RuntimeHandlerSettings& runtime) {
  std::string* field = key == "path" ? &runtime.path : key == "root" ? &runtime.root : nullptr;
  if (field == nullptr) {
    return UnknownKey();
  }
  CR_ASSIGN_OR_RETURN(std::string value, TomlString(node));
  if (!value.empty()) {
    CR_RETURN_IF_ERROR(ValidateAbsolutePath(value));
  }
  *field = std::move(value);
  return Ok();
}

}  // namespace

Result<void> ApplyRuntimesToml(const toml::table& section, std::string_view source,
                               std::map<std::string, RuntimeHandlerSettings>& runtimes) {
  // [runtimes."runc"] path = "/usr/sbin/runc": one sub-table per runtime handler.
  return ApplyNamedTables(
      source, "runtimes", section, "expected a table of runtime settings",
      /*allow_empty_name=*/false,
      [&](const std::string& name, const std::string& prefix, const toml::table& table) {
        RuntimeHandlerSettings& settings = runtimes[name];
        return ApplyKeys(source, prefix, table, [&](std::string_view key, const toml::node& node) {
          return SetRuntimeKey(key, node, settings);
        });
      });
}

toml::table RuntimesToToml(const std::map<std::string, RuntimeHandlerSettings>& runtimes) {
  toml::table out;
  for (const auto& [name, runtime] : runtimes) {
    out.insert(name, toml::table{{"path", runtime.path}, {"root", runtime.root}});
  }
  return out;
}

}  // namespace cricket::cri
