#pragma once

// Error and Result<T>: how every fallible function in Cricket reports failure.
// Shaped like std::expected<T, Error> (C++23), which GCC 12 does not offer in C++20.

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "common/check.h"

namespace cricket {

// The same numbers as grpc::StatusCode, so cri/grpc_adapter.cc converts by value.
enum class Code : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// "NOT_FOUND", "INVALID_ARGUMENT", ... as gRPC spells them.
std::string_view CodeName(Code code);

// Maps an errno value to the Code a caller most likely wants to see.
Code CodeFromErrno(int err);

class Error {
 public:
  Error(Code code, std::string message, int sys_errno = 0)
      : code_(code), sys_errno_(sys_errno), message_(std::move(message)) {}

  // "<action>: EPERM (Operation not permitted)", with the Code chosen by CodeFromErrno.
  static Error FromErrno(int err, std::string_view action);

  Code code() const { return code_; }
  int sys_errno() const { return sys_errno_; }
  const std::string& message() const { return message_; }

  // Prefixes context: Error(kNotFound, "open x").Wrap("load config") -> "load config: open x".
  Error Wrap(std::string_view context) const;

  // "NOT_FOUND: load config: open x: ENOENT (No such file or directory)".
  std::string ToString() const;

 private:
  Code code_;
  int sys_errno_;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  // Implicit on purpose: `return value;` and `return Error(...);` both read naturally.
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : data_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    CR_CHECK(ok());
    return std::get<0>(data_);
  }
  const T& value() const& {
    CR_CHECK(ok());
    return std::get<0>(data_);
  }
  // By value from a temporary, so `for (auto& x : *MakeResult())` cannot dangle.
  T value() && {
    CR_CHECK(ok());
    return std::get<0>(std::move(data_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    CR_CHECK(!ok());
    return std::get<1>(data_);
  }
  Error&& error() && {
    CR_CHECK(!ok());
    return std::get<1>(std::move(data_));
  }

  T value_or(T fallback) const& { return ok() ? std::get<0>(data_) : std::move(fallback); }

 private:
  std::variant<T, Error> data_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const { CR_CHECK(ok_); }

  const Error& error() const& {
    CR_CHECK(!ok_);
    return error_;
  }
  Error&& error() && {
    CR_CHECK(!ok_);
    return std::move(error_);
  }

 private:
  Error error_{Code::kOk, ""};
  bool ok_ = true;
};

inline Result<void> Ok() { return {}; }

}  // namespace cricket

#define CR_CONCAT_INNER_(a, b) a##b
#define CR_CONCAT_(a, b) CR_CONCAT_INNER_(a, b)

// Returns the error of `expr` (a Result) from the enclosing function.
// The temporary is named per line so that nested uses (inside a lambda) do not shadow.
#define CR_RETURN_IF_ERROR(expr) CR_RETURN_IF_ERROR_IMPL_(CR_CONCAT_(cr_status_, __LINE__), expr)
#define CR_RETURN_IF_ERROR_IMPL_(tmp, expr) \
  do {                                      \
    auto tmp = (expr);                      \
    if (!tmp.ok()) {                        \
      return std::move(tmp).error();        \
    }                                       \
  } while (false)

// `CR_ASSIGN_OR_RETURN(UniqueFd fd, sys.Open(...));` declares `fd` or returns the error.
#define CR_ASSIGN_OR_RETURN(lhs, expr) \
  CR_ASSIGN_OR_RETURN_IMPL_(CR_CONCAT_(cr_result_, __LINE__), lhs, expr)
#define CR_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) {                                \
    return std::move(tmp).error();                \
  }                                               \
  lhs = std::move(tmp).value()
