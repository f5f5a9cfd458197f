#include "common/result.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace cricket {

namespace internal {
void CheckFailed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "CHECK failed: %s at %s:%d\n", condition, file, line);
  std::abort();
}
}  // namespace internal

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kCancelled: return "CANCELLED";
    case Code::kUnknown: return "UNKNOWN";
    case Code::kInvalidArgument: return "INVALID_ARGUMENT";
    case Code::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case Code::kNotFound: return "NOT_FOUND";
    case Code::kAlreadyExists: return "ALREADY_EXISTS";
    case Code::kPermissionDenied: return "PERMISSION_DENIED";
    case Code::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case Code::kFailedPrecondition: return "FAILED_PRECONDITION";
    case Code::kAborted: return "ABORTED";
    case Code::kOutOfRange: return "OUT_OF_RANGE";
    case Code::kUnimplemented: return "UNIMPLEMENTED";
    case Code::kInternal: return "INTERNAL";
    case Code::kUnavailable: return "UNAVAILABLE";
    case Code::kDataLoss: return "DATA_LOSS";
    case Code::kUnauthenticated: return "UNAUTHENTICATED";
  }
  return "UNKNOWN";
}

Code CodeFromErrno(int err) {
  switch (err) {
    case ENOENT:
    case ESRCH:
      return Code::kNotFound;
    case EEXIST:
      return Code::kAlreadyExists;
    case EACCES:
    case EPERM:
      return Code::kPermissionDenied;
    case ENOSPC:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
    case EDQUOT:
      return Code::kResourceExhausted;
    case EINVAL:
    case ENAMETOOLONG:
    case ELOOP:
      return Code::kInvalidArgument;
    case EBUSY:
    case ENOTEMPTY:
    case EWOULDBLOCK:
      return Code::kFailedPrecondition;
    case ETIMEDOUT:
      return Code::kDeadlineExceeded;
    case EINTR:
      return Code::kAborted;
    case ENOSYS:
    case EOPNOTSUPP:
      return Code::kUnimplemented;
    default:
      return Code::kInternal;
  }
}

Error Error::FromErrno(int err, std::string_view action) {
  const char* name = strerrorname_np(err);
  std::string message(action);
  message += ": ";
  message += name != nullptr ? name : ("errno " + std::to_string(err));
  message += " (";
  message += std::strerror(err);  // NOLINT(concurrency-mt-unsafe): glibc's is thread-safe for known errnos
  message += ")";
  return {CodeFromErrno(err), std::move(message), err};
}

Error Error::Wrap(std::string_view context) const {
  std::string message(context);
  message += ": ";
  message += message_;
  return {code_, std::move(message), sys_errno_};
}

std::string Error::ToString() const {
  std::string out(CodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

}  // namespace cricket
