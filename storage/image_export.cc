#include "storage/image_export.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "storage/digest.h"
#include "storage/libarchive_ptr.h"
#include "storage/reference.h"

namespace cricket::storage {

using Json = nlohmann::json;

namespace {

constexpr size_t kExportCopyBytes = 256 * 1024;

struct WriterState {
  const ByteSink* sink = nullptr;
  std::optional<Error> error;
};

la_ssize_t WriteSink(archive* a, void* opaque, const void* buf, size_t size) {
  auto* s = static_cast<WriterState*>(opaque);
  auto written = (*s->sink)(std::string_view(static_cast<const char*>(buf), size));
  if (!written.ok()) {
    s->error = written.error();
    archive_set_error(a, EIO, "%s", written.error().message().c_str());
    return -1;
  }
  return static_cast<la_ssize_t>(size);
}

class TarWriter {
 public:
  explicit TarWriter(const ByteSink& sink) : a_(archive_write_new()) { state_.sink = &sink; }

  Result<void> Open() {
    if (a_ == nullptr || archive_write_set_format_pax_restricted(a_.get()) != ARCHIVE_OK ||
        archive_write_open(a_.get(), &state_, nullptr, WriteSink, nullptr) != ARCHIVE_OK) {
      return Failed("open");
    }
    return Ok();
  }

  // A header for a regular file (mode 0644) or, with size < 0, a directory (0755).
  Result<void> Header(const std::string& name, int64_t size) {
    ArchiveEntryPtr entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_filetype(entry.get(), size < 0 ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(entry.get(), size < 0 ? 0755 : 0644);
    archive_entry_set_size(entry.get(), size < 0 ? 0 : size);
    if (archive_write_header(a_.get(), entry.get()) != ARCHIVE_OK) {
      return Failed("header " + name);
    }
    return Ok();
  }

  Result<void> Data(std::string_view data, const std::string& name) {
    if (archive_write_data(a_.get(), data.data(), data.size()) !=
        static_cast<la_ssize_t>(data.size())) {
      return Failed("write " + name);
    }
    return Ok();
  }

  Result<void> File(const std::string& name, std::string_view data) {
    CR_RETURN_IF_ERROR(Header(name, static_cast<int64_t>(data.size())));
    return Data(data, name);
  }

  Result<void> Close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) {
      return Failed("close");
    }
    return Ok();
  }

 private:
  Error Failed(const std::string& step) {
    if (state_.error.has_value()) {
      return *state_.error;
    }
    const char* msg = a_ != nullptr ? archive_error_string(a_.get()) : nullptr;
    return Error(Code::kInternal,
                 "write archive (" + step + "): " + (msg != nullptr ? msg : "unknown error"));
  }

  WriterState state_;
  ArchiveWriter a_;
};

// Streams one blob of the content store into the tar.
Result<void> CopyBlob(ContentStore& content, const std::string& digest, TarWriter& tar) {
  CR_ASSIGN_OR_RETURN(std::string hex, Sha256Hex(digest));
  auto fd = content.OpenBlob(digest);
  if (!fd.ok()) {
    return fd.error().Wrap("export blob " + digest);
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0) {
    return Error::FromErrno(errno, "stat blob " + digest);
  }
  const std::string name = "blobs/sha256/" + hex;
  CR_RETURN_IF_ERROR(tar.Header(name, st.st_size));
  std::string buffer(kExportCopyBytes, '\0');
  int64_t left = st.st_size;
  while (left > 0) {
    ssize_t n = ::read(fd->get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return n < 0 ? Error::FromErrno(errno, "read blob " + digest)
                   : Error(Code::kDataLoss, "blob " + digest + " shrank while exported");
    }
    n = std::min<ssize_t>(n, left);
    CR_RETURN_IF_ERROR(tar.Data(std::string_view(buffer.data(), static_cast<size_t>(n)), name));
    left -= n;
  }
  return Ok();
}

std::string IndexJson(const Image& image, const std::string& manifest_media_type,
                      int64_t manifest_size) {
  Json base{{"mediaType", manifest_media_type},
            {"digest", image.manifest_digest},
            {"size", manifest_size},
            {"platform",
             {{"os", image.config.os.empty() ? "linux" : image.config.os},
              {"architecture", image.config.architecture}}}};
  Json manifests = Json::array();
  for (const std::string& tag : image.repo_tags) {
    auto ref = ParseReference(tag);
    Json entry = base;
    entry["annotations"] = {{"io.containerd.image.name", tag},
                            {"org.opencontainers.image.ref.name", ref.ok() ? ref->tag() : tag}};
    manifests.push_back(std::move(entry));
  }
  if (manifests.empty()) {
    manifests.push_back(base);
  }
  return Json{{"schemaVersion", 2}, {"mediaType", kOciIndex}, {"manifests", manifests}}.dump();
}

}  // namespace

Result<void> ExportImage(ImageStore& store, const std::string& ref_or_id, const ByteSink& sink) {
  CR_ASSIGN_OR_RETURN(Image image, store.Status(ref_or_id));
  ContentStore& content = store.content();
  CR_ASSIGN_OR_RETURN(std::string manifest_body, content.ReadBlob(image.manifest_digest));
  CR_ASSIGN_OR_RETURN(std::string media_type, ManifestMediaType(manifest_body, ""));
  CR_ASSIGN_OR_RETURN(ImageManifest manifest, ParseImageManifest(manifest_body));
  TarWriter tar(sink);
  CR_RETURN_IF_ERROR(tar.Open());
  CR_RETURN_IF_ERROR(tar.File("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  CR_RETURN_IF_ERROR(tar.File(
      "index.json", IndexJson(image, media_type, static_cast<int64_t>(manifest_body.size()))));
  CR_RETURN_IF_ERROR(tar.Header("blobs", -1));
  CR_RETURN_IF_ERROR(tar.Header("blobs/sha256", -1));
  // A blob appears once, also when two layers share it.
  std::set<std::string> written;
  std::vector<std::string> blobs = {image.manifest_digest, manifest.config.digest};
  for (const Descriptor& layer : manifest.layers) {
    blobs.push_back(layer.digest);
  }
  for (const std::string& digest : blobs) {
    if (written.insert(digest).second) {
      CR_RETURN_IF_ERROR(CopyBlob(content, digest, tar));
    }
  }
  return tar.Close();
}

}  // namespace cricket::storage
