#!/usr/bin/env bash
# Runs one test binary (with its arguments) in the VM of hack/vm/v2vm.sh (cgroup v2 only,
# AppArmor on), for ctest's `cgroupv2` and `apparmor` labels. Exits 77 (ctest: skipped) when the
# VM cannot run here (not root, no qemu, no Debian kernel); under CI=true that is a failure.
#
#   ctest-in-vm.sh [--systemd] [--registry STATE] [--env NAME=VAL]... BINARY [ARGS...]
#
# --systemd: boot the guest with systemd as PID 1 (v2vm.sh --systemd): the binary runs in a
# delegated unit (v2vm-job.service) on a real systemd with a system bus, as on a node.
# --registry STATE: the test needs the registry fixture of hack/test-registry/start (state dir
# STATE, started on the host by ctest): guest-registry.sh serves its open registry again inside
# the VM, whose loopback is its own.
# --env NAME=VAL: set for the binary (v2vm.sh --env), e.g. CRICKET_TEST_CGROUP_DRIVER=systemd.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
registry=""
vm_mode=()
if [ "${1:-}" = --systemd ]; then
  vm_mode=(--systemd)
  shift
fi
if [ "${1:-}" = --registry ]; then
  registry=$2
  shift 2
fi
env_args=()
while [ "${1:-}" = --env ]; do
  env_args+=(--env "$2")
  shift 2
done
binary=$1
shift
why=""
if [ "$(id -u)" -ne 0 ]; then
  why="needs root"
elif ! command -v qemu-system-x86_64 >/dev/null; then
  why="needs qemu-system-x86 (hack/packages.d/oci.list)"
elif ! ls /boot/vmlinuz-* >/dev/null 2>&1; then
  why="needs a Debian kernel image (linux-image-amd64)"
elif [ ${#vm_mode[@]} -gt 0 ] && [ ! -x /lib/systemd/systemd ]; then
  why="needs systemd installed (hack/packages.d/vm.list)"
elif [ -n "$registry" ] && [ ! -s "$registry/env" ]; then
  why="needs the registry fixture in $registry (run through ctest)"
fi
if [ -n "$why" ]; then
  echo "ctest-in-vm: skipped: $why" >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 77
fi
build_dir=$(cd "$(dirname "$binary")" && pwd)
if [ -n "$registry" ]; then
  exec "$here/v2vm.sh" "${vm_mode[@]}" --timeout 800 --share "$build_dir" \
    --env "CRICKET_TEST_REGISTRY_STATE=$registry" "${env_args[@]}" -- \
    "$here/guest-registry.sh" "$registry" "$binary" "$@"
fi
exec "$here/v2vm.sh" "${vm_mode[@]}" --timeout 500 --share "$build_dir" "${env_args[@]}" -- \
  "$binary" "$@"
