#pragma once

// The commands of cricket-runtime, one function each, in runc's shapes. Each returns the
// process exit code (the container's for run and a waited exec) or an Error for main to print.

#include <string>
#include <vector>

#include "common/result.h"
#include "oci/cli_args.h"
#include "oci/runtime.h"

namespace cricket::oci::cli {

struct Context {
  Runtime& runtime;
  std::vector<std::string> args;  // the whole command line
  size_t next = 0;                // index of the first argument after the command name
};

Result<int> Create(Context& ctx);
Result<int> Start(Context& ctx);
Result<int> State(Context& ctx);
Result<int> Kill(Context& ctx);
Result<int> Delete(Context& ctx);
Result<int> Run(Context& ctx);
Result<int> List(Context& ctx);
Result<int> Spec(Context& ctx);
Result<int> Exec(Context& ctx);
Result<int> Ps(Context& ctx);
Result<int> Update(Context& ctx);
Result<int> Events(Context& ctx);
Result<int> Pause(Context& ctx);
Result<int> Resume(Context& ctx);
// runc's shapes: checkpoint [--image-path DIR] [--work-path DIR] [--leave-running] ID;
// restore --image-path DIR [--work-path DIR] [--bundle DIR] [--pid-file F] [--detach] ID.
Result<int> Checkpoint(Context& ctx);
Result<int> Restore(Context& ctx);

}  // namespace cricket::oci::cli
