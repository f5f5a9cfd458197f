#include "network/cni_config.h"

#include <algorithm>
#include <filesystem>

#include "common/files.h"

namespace cricket::network {
namespace {

Error Bad(const std::string& source, const std::string& why) {
  return {Code::kInvalidArgument, "CNI config " + source + ": " + why};
}

Result<CniPlugin> ParsePlugin(const nlohmann::json& conf, const std::string& source,
                              const std::string& where) {
  if (!conf.is_object()) {
    return Bad(source, where + " must be an object");
  }
  auto type = conf.find("type");
  if (type == conf.end() || !type->is_string() || type->get<std::string>().empty()) {
    return Bad(source, where + ".type is missing");
  }
  const std::string& name = type->get_ref<const std::string&>();
  if (name.find('/') != std::string::npos) {
    return Bad(source, where + ".type \"" + name + "\" must be a plain binary name");
  }
  CniPlugin plugin{name, conf, false};
  if (auto caps = conf.find("capabilities"); caps != conf.end() && caps->is_object()) {
    auto pm = caps->find("portMappings");
    plugin.wants_port_mappings = pm != caps->end() && pm->is_boolean() && pm->get<bool>();
  }
  return plugin;
}

}  // namespace

Result<CniNetworkList> ParseCniConfig(const std::string& text, const std::string& source) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Bad(source, "not a JSON object");
  }
  CniNetworkList list;
  list.source = source;
  auto version = doc.find("cniVersion");
  if (version == doc.end() || !version->is_string()) {
    return Bad(source, "cniVersion is missing");
  }
  list.cni_version = version->get<std::string>();
  auto name = doc.find("name");
  if (name == doc.end() || !name->is_string() || name->get<std::string>().empty()) {
    return Bad(source, "name is missing");
  }
  list.name = name->get<std::string>();
  if (auto dc = doc.find("disableCheck"); dc != doc.end() && dc->is_boolean()) {
    list.disable_check = dc->get<bool>();
  }
  auto plugins = doc.find("plugins");
  if (plugins == doc.end()) {
    // A single configuration: the document is the plugin.
    CR_ASSIGN_OR_RETURN(CniPlugin plugin, ParsePlugin(doc, source, "config"));
    list.plugins.push_back(std::move(plugin));
    return list;
  }
  if (!plugins->is_array() || plugins->empty()) {
    return Bad(source, "plugins must be a non-empty array");
  }
  for (size_t i = 0; i < plugins->size(); ++i) {
    CR_ASSIGN_OR_RETURN(CniPlugin plugin,
                        ParsePlugin((*plugins)[i], source, "plugins[" + std::to_string(i) + "]"));
    list.plugins.push_back(std::move(plugin));
  }
  return list;
}

Result<CniNetworkList> LoadCniConfigDir(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string ext = entry.path().extension().string();
    if (entry.is_regular_file() && (ext == ".conflist" || ext == ".conf" || ext == ".json")) {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    return Error(Code::kNotFound, "no CNI configuration in " + dir);
  }
  CR_ASSIGN_OR_RETURN(std::string text, ReadFile(files.front()));
  return ParseCniConfig(text, files.front());
}

}  // namespace cricket::network
