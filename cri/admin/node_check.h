#pragma once

// `cricketctl check`: whether this node has what Cricket uses, like k3s' check-config. Each row
// is one feature — the kernel, namespaces, cgroups and their controllers, overlayfs, the
// syscalls Cricket relies on, seccomp, AppArmor, iptables, the bridge modules, ip_forward,
// systemd for the systemd driver, CRIU, the configured runtime handlers and CNI plugins — with
// OK, WARN (works, something is lost) or FAIL (a part of Cricket cannot work), and for anything
// not OK one line of what the missing piece costs. Reads only; changes nothing on the node.

#include <string>
#include <string_view>
#include <vector>

#include "cri/admin/node_check_env.h"
#include "cri/config.h"

namespace cricket::cri::admin {

enum class CheckStatus { kOk, kWarn, kFail };

std::string_view CheckStatusName(CheckStatus status);

struct CheckRow {
  std::string name;  // "overlayfs", "cgroup controller memory"
  CheckStatus status = CheckStatus::kOk;
  std::string detail;  // what was found
  std::string cost;    // what the missing piece costs; empty when OK
};

// Every check, in the order the table shows them. `config` names the cgroup driver, the
// AppArmor parser, the runtime handlers and the CNI directories (its CNI configuration
// directory is read directly).
std::vector<CheckRow> CheckNode(NodeCheckEnv& env, const Config& config);

// The table: CHECK, RESULT, DETAIL, and under each row that is not OK its cost; then a summary
// line with the counts.
std::string FormatCheckTable(const std::vector<CheckRow>& rows);

// 1 when any row FAILs, else 0.
int CheckExitCode(const std::vector<CheckRow>& rows);

}  // namespace cricket::cri::admin
