// Without -DCRICKET_FUZZ a fuzz target is linked with this main instead of libFuzzer's: it runs
// every file of the directories (or the files) named on the command line through
// LLVMFuzzerTestOneInput once, in name order, so the committed seed corpus (and every crash
// input added to it) is a plain regression test. A crash or a failed FUZZ_CHECK aborts.

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

std::vector<std::string> Inputs(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "%s: not found\n", path.c_str());
    std::exit(2);
  }
  if (!S_ISDIR(st.st_mode)) {
    return {path};
  }
  std::vector<std::string> files;
  DIR* dir = opendir(path.c_str());
  while (dirent* e = dir != nullptr ? readdir(dir) : nullptr) {
    if (e->d_name[0] != '.') {
      files.push_back(path + "/" + e->d_name);
    }
  }
  if (dir != nullptr) {
    closedir(dir);
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) {
    LLVMFuzzerInitialize(&argc, &argv);
  }
  size_t runs = 0;
  for (int i = 1; i < argc; ++i) {
    for (const std::string& file : Inputs(argv[i])) {
      std::ifstream in(file, std::ios::binary);
      std::stringstream bytes;
      bytes << in.rdbuf();
      std::string data = bytes.str();
      std::fprintf(stderr, "running %s (%zu bytes)\n", file.c_str(), data.size());
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data.data()), data.size());
      ++runs;
    }
  }
  if (runs == 0) {
    std::fprintf(stderr, "no inputs\n");
    return 2;
  }
  std::fprintf(stderr, "%zu inputs ran\n", runs);
  return 0;
}
