// Parsing config.json and its fragments; the fields are read by ReadStruct in
// spec_json_read.h (the writer is spec_json_write.cc).

#include "oci/spec_json_read.h"

#include "common/files.h"
#include "oci/spec_json.h"

namespace cricket::oci {

using Json = nlohmann::json;

namespace {

// One top-level object of type T; `path` prefixes the field names in errors.
template <typename T>
Result<T> ParseObject(std::string_view json_text, std::string_view what, const std::string& path) {
  CR_ASSIGN_OR_RETURN(Json doc, ParseJsonText(json_text, what));
  JsonReader reader;
  T out;
  ReadStruct(reader, doc, path, out);
  CR_RETURN_IF_ERROR(reader.status());
  return out;
}

}  // namespace

Result<Spec> ParseSpec(std::string_view json_text) {
  return ParseObject<Spec>(json_text, "config.json", "");
}

Result<Resources> ParseResources(std::string_view json_text) {
  return ParseObject<Resources>(json_text, "resources", "resources");
}

Result<Process> ParseProcess(std::string_view json_text) {
  return ParseObject<Process>(json_text, "process.json", "process");
}

Result<Spec> LoadSpec(const std::string& bundle_dir) {
  std::string path = bundle_dir + "/config.json";
  auto text = ReadFile(path);
  if (!text.ok()) {
    return text.error().Wrap("load spec");
  }
  auto spec = ParseSpec(*text);
  if (!spec.ok()) {
    return spec.error().Wrap(path);
  }
  return spec;
}

}  // namespace cricket::oci
