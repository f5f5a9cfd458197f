#!/usr/bin/env bash
# Runs one test binary (with its arguments) on a cgroup-v2-only kernel through hack/vm/v2vm.sh,
# for ctest's `cgroupv2` label. Exits 77 (ctest: skipped) when the VM cannot run here (not
# root, no qemu, no Debian kernel); under CI=true that is a failure instead.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
binary=$1
shift
why=""
if [ "$(id -u)" -ne 0 ]; then
  why="needs root"
elif ! command -v qemu-system-x86_64 >/dev/null; then
  why="needs qemu-system-x86 (hack/packages.d/oci.list)"
elif ! ls /boot/vmlinuz-* >/dev/null 2>&1; then
  why="needs a Debian kernel image (linux-image-amd64)"
fi
if [ -n "$why" ]; then
  echo "ctest-in-vm: skipped: $why" >&2
  [ "${CI:-}" = "true" ] && exit 1
  exit 77
fi
build_dir=$(cd "$(dirname "$binary")" && pwd)
exec "$here/v2vm.sh" --timeout 500 --share "$build_dir" -- "$binary" "$@"
