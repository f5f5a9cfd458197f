#include "tests/support/busybox_rootfs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace cricket::testing {

bool MakeBusyboxRootfs(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::exists("/bin/busybox")) {
    ADD_FAILURE() << "/bin/busybox is missing (apt-get install busybox-static)";
    return false;
  }
  for (const char* sub : {"bin", "proc", "dev", "sys", "tmp", "etc", "run"}) {
    fs::create_directories(dir + "/" + sub);
  }
  fs::copy_file("/bin/busybox", dir + "/bin/busybox", fs::copy_options::overwrite_existing);
  for (const char* applet : {"sh", "cat", "echo", "sleep", "true", "false", "id", "ls", "ps",
                             "hostname", "grep", "head", "wc", "touch", "mkdir", "kill"}) {
    fs::create_symlink("busybox", dir + "/bin/" + applet);
  }
  std::ofstream(dir + "/etc/passwd") << "root:x:0:0:root:/:/bin/sh\n";
  std::ofstream(dir + "/etc/group") << "root:x:0:\n";
  return true;
}

}  // namespace cricket::testing
