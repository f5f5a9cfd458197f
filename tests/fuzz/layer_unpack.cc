// An image layer as a registry serves it (tar, gzip or zstd, the decompressor picks) unpacked
// into an empty layer directory, as a pull does. Property: nothing lands outside that
// directory. It sits three levels deep in a private temp dir, so an entry escaping by "..",
// an absolute name or a symlink (of up to three levels) shows up as an unexpected entry there.

#include "storage/layer_unpack.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_check.h"

namespace {

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  FUZZ_CHECK(d != nullptr);
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") {
      names.push_back(name);
    }
  }
  closedir(d);
  return names;
}

const std::string& Base() {
  static const std::string base = [] {
    char dir[] = "/tmp/cricket-fuzz-layer-XXXXXX";
    FUZZ_CHECK(mkdtemp(dir) != nullptr);
    FUZZ_CHECK(mkdir((std::string(dir) + "/a").c_str(), 0755) == 0);
    FUZZ_CHECK(mkdir((std::string(dir) + "/a/b").c_str(), 0755) == 0);
    return std::string(dir);
  }();
  return base;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& base = Base();
  const std::string root = base + "/a/b/root";
  FUZZ_CHECK(mkdir(root.c_str(), 0755) == 0);

  int blob = memfd_create("layer", MFD_CLOEXEC);
  FUZZ_CHECK(blob >= 0);
  FUZZ_CHECK(write(blob, data, size) == static_cast<ssize_t>(size));
  FUZZ_CHECK(lseek(blob, 0, SEEK_SET) == 0);
  int layer = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  FUZZ_CHECK(layer >= 0);

  cricket::storage::UnpackOptions options;
  options.privileged = false;  // no device nodes or chowns even when the fuzzer runs as root
  options.overlay_xattr_prefix = "user.overlay.";
  options.whiteouts = size % 2 == 0 ? cricket::storage::WhiteoutMode::kOverlay
                                    : cricket::storage::WhiteoutMode::kApply;
  options.max_uncompressed_bytes = 4 << 20;
  options.max_entries = 1000;
  (void)cricket::storage::UnpackLayer(blob, layer, options);
  close(layer);
  close(blob);

  FUZZ_CHECK(Entries(base) == std::vector<std::string>{"a"});
  FUZZ_CHECK(Entries(base + "/a") == std::vector<std::string>{"b"});
  FUZZ_CHECK(Entries(base + "/a/b") == std::vector<std::string>{"root"});
  // Entries may have any mode; make every directory writable again before removing the tree.
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(
           root, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      chmod(it->path().c_str(), 0755);
    }
  }
  std::filesystem::remove_all(root, ec);
  FUZZ_CHECK(!ec);
  return 0;
}
