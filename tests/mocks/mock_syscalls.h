#pragma once

// gMock of the syscall seam. Use as StrictMock<MockSyscalls> unless a test says why not.

#include <gmock/gmock.h>

#include "common/syscalls.h"

namespace cricket::testing {

class MockSyscalls : public Syscalls {
 public:
  MOCK_METHOD(Result<UniqueFd>, Open, (const std::string& path, int flags, mode_t mode), (override));
  MOCK_METHOD(Result<UniqueFd>, Openat, (int dirfd, const std::string& path, int flags, mode_t mode),
              (override));
  MOCK_METHOD(Result<void>, Mkdir, (const std::string& path, mode_t mode), (override));
  MOCK_METHOD(Result<void>, Chmod, (const std::string& path, mode_t mode), (override));
  MOCK_METHOD(Result<void>, Unlink, (const std::string& path), (override));
  MOCK_METHOD(Result<void>, Rmdir, (const std::string& path), (override));
  MOCK_METHOD(Result<void>, Rename, (const std::string& from, const std::string& to), (override));
  MOCK_METHOD(Result<void>, Flock, (int fd, int operation), (override));
  MOCK_METHOD(Result<void>, Fsync, (int fd), (override));
  MOCK_METHOD(Result<void>, Ftruncate, (int fd, off_t length), (override));
  MOCK_METHOD(Result<size_t>, Write, (int fd, std::string_view data), (override));
  MOCK_METHOD(Result<void>, Mount,
              (const std::string& source, const std::string& target, const std::string& fstype,
               unsigned long flags, const std::string& data),
              (override));
  MOCK_METHOD(Result<void>, Umount2, (const std::string& target, int flags), (override));
  MOCK_METHOD(Result<void>, Kill, (pid_t pid, int signal), (override));
};

}  // namespace cricket::testing
