// storage_pull_bench <ref> <root>: pulls one image into a cold store under <root> and prints
// JSON: seconds, MB/s (compressed bytes), peak RSS and RSS growth of this process. Used by
// hack/bench/pull; not a test.

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "common/files.h"
#include "common/syscalls.h"
#include "storage/image_store.h"

namespace {

// Resident set size now, in KiB (VmRSS from /proc/self/status).
long RssKib() {
  auto status = cricket::ReadFile("/proc/self/status");
  if (!status.ok()) {
    return -1;
  }
  size_t pos = status->find("VmRSS:");
  return pos == std::string::npos ? -1 : std::strtol(status->c_str() + pos + 6, nullptr, 10);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <ref> <root>\n", argv[0]);
    return 2;
  }
  cricket::LinuxSyscalls sys;
  cricket::storage::ImageStoreOptions options;
  options.root = argv[2];
  options.fetch_binary = CRICKET_FETCH_PATH;
  auto store = cricket::storage::ImageStore::Open(options, sys);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.error().ToString().c_str());
    return 1;
  }
  long rss_before = RssKib();
  auto start = std::chrono::steady_clock::now();
  auto image = (*store)->Pull(argv[1], {});
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!image.ok()) {
    std::fprintf(stderr, "%s\n", image.error().ToString().c_str());
    return 1;
  }
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  double mb = static_cast<double>(image->size_bytes) / 1e6;
  std::printf(
      "{\"seconds\": %.3f, \"compressed_mb\": %.1f, \"mb_per_s\": %.1f, \"peak_rss_mib\": %.1f, "
      "\"rss_growth_mib\": %.1f}\n",
      seconds, mb, mb / seconds, static_cast<double>(usage.ru_maxrss) / 1024.0,
      static_cast<double>(usage.ru_maxrss - rss_before) / 1024.0);
  return 0;
}
