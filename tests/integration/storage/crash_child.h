#pragma once

// The storage crash matrix's driver (issue #14): runs one operation in a forked child with one
// fail point enabled, and collects the rows of the table the tests print.
//
// The child enables `point=action` (common/failpoint.h), runs the operation and, when it did
// not die, a check of what the failure left (run in the child, before anything reopens the
// store and its start-up reconcile repairs it). The parent then reopens the store itself and
// checks what a restart finds.

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"

namespace cricket::storage::testing {

struct ChildEnd {
  bool killed = false;    // died of SIGKILL (the fail point's kill)
  bool exited = false;    // returned from the operation
  Code code = Code::kOk;  // the operation's result when it exited
  std::string message;    // its error message, or the check's complaint
  bool check_ok = false;  // the in-child check passed (only when exited)
};

// Forks; the child configures `spec` ("name=action"), runs `op`, then — when `op` failed —
// `after_error` (returns "" when the state is as it must be, else what is wrong) and exits.
// Waits at most `timeout_ms` for the child (then kills it and reports it as neither).
ChildEnd RunInChild(const std::string& spec, const std::function<Result<void>()>& op,
                    const std::function<std::string()>& after_error, int timeout_ms = 60000);

// One row of the printed table.
struct MatrixRow {
  std::string point;
  std::string action;
  std::string outcome;  // what happened, in a few words
  bool pass = false;
  std::string why;  // when it failed
};

// Prints the table to stdout: point × action × outcome × PASS/FAIL.
void PrintMatrix(const std::string& title, const std::vector<MatrixRow>& rows);

// The code a fail point's action makes an operation return.
Code ExpectedCode(const std::string& action);

// Judges how the child ended: with kill it must have died of SIGKILL (outcome "killed"); with
// error/enospc it must have returned ExpectedCode(action) and passed its in-child check
// (outcome `failed_outcome`). Sets row.outcome, or row.why and returns false.
bool JudgeChild(const ChildEnd& end, const std::string& action, const std::string& failed_outcome,
                MatrixRow& row);

// Prints the table, then fails the test for every row that did not pass.
void ReportMatrix(const std::string& title, const std::vector<MatrixRow>& rows);

}  // namespace cricket::storage::testing
