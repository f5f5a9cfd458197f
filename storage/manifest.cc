#include "storage/manifest.h"

#include <sys/utsname.h>

#include <nlohmann/json.hpp>

#include "storage/json_fields.h"
#include "storage/reference.h"

namespace cricket::storage {

using Json = nlohmann::json;

namespace {

Result<Json> ParseJson(std::string_view body, std::string_view what) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Error(Code::kInvalidArgument, std::string(what) + " is not a JSON object");
  }
  return j;
}

Result<Descriptor> ParseDescriptor(const Json& j, std::string_view what) {
  if (!j.is_object()) {
    return Error(Code::kInvalidArgument, std::string(what) + " descriptor is not an object");
  }
  Descriptor d;
  d.media_type = JsonString(j, "mediaType");
  d.digest = JsonString(j, "digest");
  auto size = j.find("size");
  if (size != j.end() && size->is_number_integer()) {
    d.size = size->get<int64_t>();
  }
  if (!ValidateDigestSyntax(d.digest).ok()) {
    return Error(Code::kInvalidArgument,
                 std::string(what) + " descriptor has an invalid digest \"" + d.digest + "\"");
  }
  if (d.size < 0) {
    return Error(Code::kInvalidArgument,
                 std::string(what) + " descriptor " + d.digest + " has no valid size");
  }
  auto platform = j.find("platform");
  if (platform != j.end() && platform->is_object()) {
    d.platform.os = JsonString(*platform, "os");
    d.platform.architecture = JsonString(*platform, "architecture");
    d.platform.variant = JsonString(*platform, "variant");
  }
  return d;
}

}  // namespace

std::string ManifestAcceptHeader() {
  return std::string(kOciIndex) + ", " + std::string(kOciManifest) + ", " +
         std::string(kDockerList) + ", " + std::string(kDockerManifest);
}

bool IsIndexMediaType(std::string_view t) { return t == kOciIndex || t == kDockerList; }
bool IsManifestMediaType(std::string_view t) { return t == kOciManifest || t == kDockerManifest; }

bool IsSupportedLayerMediaType(std::string_view t) {
  return t == "application/vnd.oci.image.layer.v1.tar" ||
         t == "application/vnd.oci.image.layer.v1.tar+gzip" ||
         t == "application/vnd.oci.image.layer.v1.tar+zstd" ||
         t == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip" ||
         t == "application/vnd.docker.image.rootfs.diff.tar.gzip" ||
         t == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
}

Result<std::string> ManifestMediaType(std::string_view body, std::string_view content_type) {
  CR_ASSIGN_OR_RETURN(Json j, ParseJson(body, "manifest"));
  std::string t = JsonString(j, "mediaType");
  if (!t.empty()) {
    return t;
  }
  std::string_view ct = content_type.substr(0, content_type.find(';'));
  while (!ct.empty() && ct.back() == ' ') {
    ct.remove_suffix(1);
  }
  if (!ct.empty() && ct != "application/json" && ct != "text/plain") {
    return std::string(ct);
  }
  // OCI documents may omit mediaType: an index has "manifests", a manifest has "config".
  if (j.contains("manifests")) {
    return std::string(kOciIndex);
  }
  return std::string(kOciManifest);
}

Result<std::vector<Descriptor>> ParseIndex(std::string_view body) {
  CR_ASSIGN_OR_RETURN(Json j, ParseJson(body, "image index"));
  auto it = j.find("manifests");
  if (it == j.end() || !it->is_array()) {
    return Error(Code::kInvalidArgument, "image index has no manifests array");
  }
  std::vector<Descriptor> out;
  for (const Json& m : *it) {
    CR_ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor(m, "index entry"));
    out.push_back(std::move(d));
  }
  return out;
}

Result<ImageManifest> ParseImageManifest(std::string_view body) {
  CR_ASSIGN_OR_RETURN(Json j, ParseJson(body, "image manifest"));
  ImageManifest out;
  out.media_type = JsonString(j, "mediaType");
  auto config = j.find("config");
  if (config == j.end()) {
    return Error(Code::kInvalidArgument, "image manifest has no config");
  }
  CR_ASSIGN_OR_RETURN(out.config, ParseDescriptor(*config, "config"));
  auto layers = j.find("layers");
  if (layers == j.end() || !layers->is_array()) {
    return Error(Code::kInvalidArgument, "image manifest has no layers array");
  }
  for (const Json& l : *layers) {
    CR_ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor(l, "layer"));
    if (!IsSupportedLayerMediaType(d.media_type)) {
      return Error(Code::kUnimplemented,
                   "layer " + d.digest + " has unsupported media type \"" + d.media_type + "\"");
    }
    out.layers.push_back(std::move(d));
  }
  return out;
}

Result<ImageConfig> ParseImageConfig(std::string_view body) {
  CR_ASSIGN_OR_RETURN(Json j, ParseJson(body, "image config"));
  ImageConfig out;
  out.os = JsonString(j, "os");
  out.architecture = JsonString(j, "architecture");
  auto cfg = j.find("config");
  if (cfg != j.end() && cfg->is_object()) {
    out.user = JsonString(*cfg, "User");
    out.env = JsonStringList(*cfg, "Env");
    out.entrypoint = JsonStringList(*cfg, "Entrypoint");
    out.cmd = JsonStringList(*cfg, "Cmd");
    out.working_dir = JsonString(*cfg, "WorkingDir");
    out.stop_signal = JsonString(*cfg, "StopSignal");
    auto volumes = cfg->find("Volumes");
    if (volumes != cfg->end() && volumes->is_object()) {
      for (const auto& [path, unused] : volumes->items()) {
        out.volumes.push_back(path);
      }
    }
    auto labels = cfg->find("Labels");
    if (labels != cfg->end() && labels->is_object()) {
      for (const auto& [key, value] : labels->items()) {
        if (value.is_string()) {
          out.labels[key] = value.get<std::string>();
        }
      }
    }
  }
  auto rootfs = j.find("rootfs");
  if (rootfs == j.end() || !rootfs->is_object()) {
    return Error(Code::kInvalidArgument, "image config has no rootfs");
  }
  out.diff_ids = JsonStringList(*rootfs, "diff_ids");
  for (const std::string& d : out.diff_ids) {
    CR_RETURN_IF_ERROR(ValidateDigestSyntax(d));
  }
  return out;
}

Platform HostPlatform() {
  Platform p{"linux", "amd64", ""};
  utsname u{};
  if (::uname(&u) != 0) {
    return p;
  }
  std::string m = u.machine;
  if (m == "aarch64" || m == "arm64") {
    p.architecture = "arm64";
  } else if (m.rfind("armv7", 0) == 0) {
    p.architecture = "arm";
    p.variant = "v7";
  } else if (m.rfind("armv6", 0) == 0) {
    p.architecture = "arm";
    p.variant = "v6";
  } else if (m == "i686" || m == "i386") {
    p.architecture = "386";
  } else if (m == "ppc64le" || m == "s390x" || m == "riscv64") {
    p.architecture = m;
  }
  return p;
}

Result<Descriptor> SelectPlatform(const std::vector<Descriptor>& manifests, const Platform& want) {
  for (const Descriptor& d : manifests) {
    if (d.platform.os != want.os || d.platform.architecture != want.architecture) {
      continue;
    }
    if (!want.variant.empty() && !d.platform.variant.empty() &&
        d.platform.variant != want.variant) {
      continue;
    }
    return d;
  }
  std::string name =
      want.os + "/" + want.architecture + (want.variant.empty() ? "" : "/" + want.variant);
  return Error(Code::kNotFound, "no manifest for platform " + name + " in the image index");
}

}  // namespace cricket::storage
