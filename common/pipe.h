#pragma once

// A pipe whose two ends close on exec, each with its one owner.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common/result.h"
#include "common/unique_fd.h"

namespace cricket {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

// `what` names the pipe in the error: "create pipe: EMFILE (Too many open files)".
inline Result<Pipe> MakePipe(const char* what = "create pipe") {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) {
    return Error::FromErrno(errno, what);
  }
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace cricket
