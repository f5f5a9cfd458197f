// Parsing config.json and its fragments; the fields are read by ReadStruct in
// spec_json_read.h (the writer is spec_json_write.cc).

#include "oci/spec_json_read.h"

#include "common/files.h"
#include "oci/spec_json.h"

namespace cricket::oci {

using Json = nlohmann::json;

Result<Spec> ParseSpec(std::string_view json_text) {
  CR_ASSIGN_OR_RETURN(Json doc, ParseJsonText(json_text, "config.json"));
  JsonReader reader;
  Spec spec;
  ReadStruct(reader, doc, "", spec);
  CR_RETURN_IF_ERROR(reader.status());
  return spec;
}

Result<Resources> ParseResources(std::string_view json_text) {
  CR_ASSIGN_OR_RETURN(Json doc, ParseJsonText(json_text, "resources"));
  JsonReader reader;
  Resources resources;
  ReadStruct(reader, doc, "resources", resources);
  CR_RETURN_IF_ERROR(reader.status());
  return resources;
}

Result<Process> ParseProcess(std::string_view json_text) {
  CR_ASSIGN_OR_RETURN(Json doc, ParseJsonText(json_text, "process.json"));
  JsonReader reader;
  Process process;
  ReadStruct(reader, doc, "process", process);
  CR_RETURN_IF_ERROR(reader.status());
  return process;
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
