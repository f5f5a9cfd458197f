#pragma once

// A pipe whose two ends close on exec, each with its one owner.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "common/result.h"
#include "common/unique_fd.h"

namespace cricket {

// {read end, write end}.
inline Result<std::pair<UniqueFd, UniqueFd>> CloexecPipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) {
    return Error::FromErrno(errno, "create pipe");
  }
  return std::pair{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace cricket
