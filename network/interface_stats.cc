#include "network/interface_stats.h"

#include <charconv>
#include <sstream>

#include "common/files.h"

namespace cricket::network {
namespace {

// Columns after "name:": 8 receive counters, then 8 transmit counters.
constexpr size_t kRxBytes = 0;
constexpr size_t kRxPackets = 1;
constexpr size_t kRxErrors = 2;
constexpr size_t kRxDropped = 3;
constexpr size_t kTxBytes = 8;
constexpr size_t kTxPackets = 9;
constexpr size_t kTxErrors = 10;
constexpr size_t kTxDropped = 11;
constexpr size_t kColumns = 16;

}  // namespace

Result<std::vector<InterfaceCounters>> ParseNetDev(std::string_view text) {
  std::vector<InterfaceCounters> out;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (++line_no <= 2 || line.find_first_not_of(' ') == std::string_view::npos) {
      continue;  // the two header lines
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return Error(Code::kDataLoss, "net/dev line " + std::to_string(line_no) + ": no ':'");
    }
    InterfaceCounters counters;
    std::string_view name = line.substr(0, colon);
    name.remove_prefix(std::min(name.find_first_not_of(' '), name.size()));
    counters.name = std::string(name);
    std::istringstream fields{std::string(line.substr(colon + 1))};
    uint64_t values[kColumns];
    for (uint64_t& value : values) {
      if (!(fields >> value)) {
        return Error(Code::kDataLoss, "net/dev line " + std::to_string(line_no) + " (" +
                                          counters.name + "): expected " +
                                          std::to_string(kColumns) + " counters");
      }
    }
    counters.rx_bytes = values[kRxBytes];
    counters.rx_errors = values[kRxErrors];
    counters.tx_bytes = values[kTxBytes];
    counters.tx_errors = values[kTxErrors];
    counters.rx_packets = values[kRxPackets];
    counters.rx_dropped = values[kRxDropped];
    counters.tx_packets = values[kTxPackets];
    counters.tx_dropped = values[kTxDropped];
    out.push_back(std::move(counters));
  }
  return out;
}

Result<std::vector<InterfaceCounters>> ReadInterfaceCounters(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/net/dev";
  CR_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto parsed = ParseNetDev(text);
  if (!parsed.ok()) {
    return parsed.error().Wrap(path);
  }
  return parsed;
}

}  // namespace cricket::network
