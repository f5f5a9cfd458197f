#pragma once

// FakeCgroupFs: the Syscalls seam over a temp dir that behaves like cgroupfs where the cgroup
// backends care: mkdir makes the control files appear, rmdir removes them with the directory.

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/syscalls.h"

namespace cricket::oci::testing {

class FakeCgroupFs : public Syscalls {
 public:
  explicit FakeCgroupFs(std::vector<std::string> control_files)
      : control_files_(std::move(control_files)) {}

  // Creates dir with the control files, as the kernel does for a new cgroup.
  void Populate(const std::string& dir) {
    std::filesystem::create_directories(dir);
    for (const auto& file : control_files_) {
      std::ofstream(dir + "/" + file, std::ios::app).flush();
    }
  }

  Result<UniqueFd> Open(const std::string& path, int flags, mode_t mode) override {
    return real_.Open(path, flags, mode);
  }
  Result<UniqueFd> Openat(int dirfd, const std::string& path, int flags, mode_t mode) override {
    return real_.Openat(dirfd, path, flags, mode);
  }
  Result<void> Mkdir(const std::string& path, mode_t mode) override {
    CR_RETURN_IF_ERROR(real_.Mkdir(path, mode));
    mkdirs.push_back(path);
    Populate(path);
    return Ok();
  }
  Result<void> Chmod(const std::string& path, mode_t mode) override { return real_.Chmod(path, mode); }
  Result<void> Unlink(const std::string& path) override { return real_.Unlink(path); }
  Result<void> Rmdir(const std::string& path) override {
    if (!std::filesystem::exists(path)) {
      return Error(Code::kNotFound, "rmdir " + path, ENOENT);
    }
    rmdirs.push_back(path);
    std::filesystem::remove_all(path);
    return Ok();
  }
  Result<void> Rename(const std::string& from, const std::string& to) override {
    return real_.Rename(from, to);
  }
  Result<void> Flock(int fd, int operation) override { return real_.Flock(fd, operation); }
  Result<void> Fsync(int fd) override { return real_.Fsync(fd); }
  Result<void> Ftruncate(int fd, off_t length) override { return real_.Ftruncate(fd, length); }
  Result<size_t> Write(int fd, std::string_view data) override { return real_.Write(fd, data); }
  Result<void> Mount(const std::string& source, const std::string& target, const std::string& fstype,
                     unsigned long flags, const std::string& data) override {
    return real_.Mount(source, target, fstype, flags, data);
  }
  Result<void> Umount2(const std::string& target, int flags) override {
    return real_.Umount2(target, flags);
  }
  Result<void> Kill(pid_t pid, int signal) override { return real_.Kill(pid, signal); }

  std::vector<std::string> mkdirs;
  std::vector<std::string> rmdirs;

 private:
  LinuxSyscalls real_;
  std::vector<std::string> control_files_;
};

}  // namespace cricket::oci::testing
