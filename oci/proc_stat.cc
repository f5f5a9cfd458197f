#include "oci/proc_stat.h"

#include <charconv>

#include "common/files.h"

namespace cricket::oci {

Result<ProcStat> ParseProcStat(std::string_view line) {
  // "pid (comm) state ppid ...": comm may hold spaces and parens, so cut at the last ')'.
  size_t paren = line.rfind(')');
  if (paren == std::string_view::npos || paren + 2 >= line.size()) {
    return Error(Code::kInvalidArgument, "malformed /proc stat line");
  }
  std::string_view rest = line.substr(paren + 2);
  ProcStat stat;
  stat.state = rest[0];
  // Field 3 is the state; the start time is field 22, i.e. 19 fields further on.
  size_t pos = 0;
  for (int field = 3; field < 22; ++field) {
    pos = rest.find(' ', pos);
    if (pos == std::string_view::npos) {
      return Error(Code::kInvalidArgument, "malformed /proc stat line: too few fields");
    }
    ++pos;
  }
  auto [ptr, ec] = std::from_chars(rest.data() + pos, rest.data() + rest.size(), stat.start_time);
  if (ec != std::errc()) {
    return Error(Code::kInvalidArgument, "malformed /proc stat line: start time");
  }
  return stat;
}

Result<ProcStat> ReadProcStat(pid_t pid, const std::string& proc_root) {
  CR_ASSIGN_OR_RETURN(std::string text, ReadFile(proc_root + "/" + std::to_string(pid) + "/stat"));
  return ParseProcStat(text);
}

}  // namespace cricket::oci
