#pragma once

// A CNI configuration generated from a template with the node's pod CIDR filled in
// (network.cni_conf_template), like containerd's `conf_template`: for nodes where no CNI
// daemonset drops a configuration, kubelet's pod CIDR decides the IPAM ranges.
//
// The template is Go text/template syntax as containerd documents it, of which Cricket
// evaluates the part those templates use, without a template engine:
//   {{.PodCIDR}}                                 the first range
//   {{range $i, $r := .PodCIDRRanges}}...{{end}} once per range ($r inside; `range $r := ...`
//   {{range $i, $r := .Routes}}...{{end}}         too), .Routes being "0.0.0.0/0" and/or "::/0"
//   {{if $i}}...{{end}}                          inside a range: all but the first iteration
//   {{/* comment */}}, and {{- / -}} trimming the whitespace beside an action.
// Any other action is refused, naming it, rather than copied into the configuration.

#include <string>
#include <string_view>

#include "common/result.h"
#include "network/pod_cidr.h"

namespace cricket::network {

// The file Cricket writes into the CNI configuration directory.
inline constexpr std::string_view kGeneratedCniConfName = "10-cricket-net.conflist";

// kFailedPrecondition "<source>: <why>" for an unsupported action, an unknown variable or an
// unbalanced {{range}}/{{if}}/{{end}}.
Result<std::string> RenderCniConfTemplate(std::string_view tmpl, const PodCidrs& cidrs,
                                          std::string_view source);

// Reads the template, renders it, checks that the result is a valid CNI configuration
// (ParseCniConfig) and replaces `<conf_dir>/10-cricket-net.conflist` atomically (temp file +
// rename, 0644), so a CNI reader never sees half a file. Returns the path written.
// kFailedPrecondition naming the template for a missing or bad template or a result that is
// not a CNI configuration; nothing is written then.
Result<std::string> WriteCniConfFromTemplate(const std::string& template_path,
                                             const std::string& conf_dir, const PodCidrs& cidrs);

}  // namespace cricket::network
