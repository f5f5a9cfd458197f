#pragma once

// Checks of a parsed Spec that the runtime relies on. Every error is kInvalidArgument and starts
// with the field it is about ("linux.namespaces[1].type: unknown namespace type \"foo\"").

#include <string>
#include <string_view>

#include "common/result.h"
#include "oci/spec.h"

namespace cricket::oci {

// root.path and bind-mount sources may be relative to the bundle (runc's `spec` writes
// "rootfs"): makes them absolute.
void ResolveBundlePaths(Spec& spec, const std::string& bundle_dir);

// Validates a spec whose root.path is already absolute (see ResolveBundlePaths). Requires
// `process`, since every container this runtime creates runs one.
Result<void> ValidateSpec(const Spec& spec);

// The namespaces a container has of its own (new or joined by path), for CheckSysctl.
struct OwnNamespaces {
  bool net = false;
  bool ipc = false;
  bool uts = false;
  bool user = false;
};

// A sysctl may only be set when it is namespaced and the container has that namespace of its
// own, else it would change the node (runc's list): net.* with a network namespace; the SysV
// IPC ones (kernel.msgmax, msgmnb, msgmni, sem, shmall, shmmax, shmmni, shm_rmid_forced) and
// fs.mqueue.* with an ipc namespace; kernel.domainname with a uts namespace (kernel.hostname
// conflicts with the spec's `hostname`); user.* with a user namespace. `key` is dotted or
// slashed ("net/ipv4/ip_forward"). kInvalidArgument naming `field` and the sysctl otherwise.
Result<void> CheckSysctl(std::string_view key, const OwnNamespaces& own, const std::string& field);

// "net/ipv4/conf/eth0.100/forwarding" -> "net.ipv4.conf.eth0/100.forwarding": the dotted name
// of a sysctl given either way (the separator met first decides, as sysctl(8) reads it).
std::string SysctlDottedName(std::string_view key);

// Mounts over the container's /proc (CVE-2019-16884): only procfs itself may sit at /proc (a
// "proc" mount, or a bind whose source is on procfs, which BuildChildPlan checks), and below it
// only the files lxcfs emulates (runc's list). `destination` is cleaned lexically first.
enum class ProcMountRule { kNotInProc, kProcRoot, kAllowedFile, kRefused };
ProcMountRule ClassifyProcMount(std::string_view destination);

// "pid" -> CLONE_NEWPID, ...; 0 for an unknown type.
int NamespaceCloneFlag(std::string_view type);

}  // namespace cricket::oci
