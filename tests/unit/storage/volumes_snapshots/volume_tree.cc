#include "tests/unit/storage/volumes_snapshots/volume_tree.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "common/files.h"
#include "storage/digest.h"

namespace cricket::storage::volumes::testing {

std::map<std::string, std::string> DescribeTree(const std::string& root) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  auto describe = [&](const std::string& path, const std::string& rel) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      ADD_FAILURE() << "lstat " << path;
      return;
    }
    std::ostringstream d;
    d << std::oct << (st.st_mode & S_IFMT) << " " << (st.st_mode & 07777) << std::dec;
    if (S_ISREG(st.st_mode)) {
      auto data = ReadFile(path);
      d << " " << st.st_size << " " << (data.ok() ? Sha256Digest(*data) : "unreadable") << " "
        << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec;
    } else if (S_ISDIR(st.st_mode)) {
      d << " " << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec;
    } else if (S_ISLNK(st.st_mode)) {
      d << " -> " << std::filesystem::read_symlink(path, ec).string();
    }
    out[rel] = d.str();
  };
  describe(root, ".");
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      ADD_FAILURE() << "walk " << root << ": " << ec.message();
      break;
    }
    std::string p = it->path().string();
    describe(p, p.substr(root.size() + 1));
  }
  return out;
}

void WriteFile(const std::string& path, const std::string& data, unsigned mode) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << data;
  }
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(s.data() + i, &v, 8);
  }
  return s;
}

}  // namespace cricket::storage::volumes::testing
