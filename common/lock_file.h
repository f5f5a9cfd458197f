#pragma once

// LockFile: an exclusive flock(2) on a file, held for the life of the object. The kernel drops
// the lock when the process dies, so a crash never leaves a stale lock behind; the file itself
// stays and records the holder's pid for the error message of the next contender.

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace cricket {

class LockFile {
 public:
  // Takes the lock without waiting. kFailedPrecondition naming the path and the holder's pid
  // when another process (or another LockFile in this process) holds it.
  static Result<LockFile> Acquire(const std::string& path);

  const std::string& path() const { return path_; }

 private:
  LockFile(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  UniqueFd fd_;
};

}  // namespace cricket
