#!/usr/bin/env bash
# Runs critest (../shared/conformance, not part of this repository) against a cricketd inside a
# hack/vm guest booted with systemd (cgroup v2, AppArmor on). Outside CI: critest is not
# committed. Results (critest.sh's result directory, cricketd.log) land in RESULTS, shared
# with the host.
#
#   hack/vm/critest-in-vm.sh BUILD_DIR RESULTS [cricketd args...]   (on the host, root)
#   e.g. hack/vm/critest-in-vm.sh build /var/tmp/critest-vm --cgroup-driver=systemd
#   CRITEST_FOCUS=REGEX: only the specs it matches (critest.sh --focus).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" != --guest ]; then
  build=$(cd "$1" && pwd)
  results=$2
  shift 2
  mkdir -p "$results"
  results=$(cd "$results" && pwd)
  exec "$here/v2vm.sh" --systemd --mem 3072 --timeout 1800 --share "$results" \
    --env "CRITEST_FOCUS=${CRITEST_FOCUS:-}" -- \
    "$here/critest-in-vm.sh" --guest "$build" "$results" "$@"
fi
build=$2
results=$3
shift 3
conformance=$here/../../../shared/conformance
[ -d "$conformance" ] || conformance=/work/shared/conformance
# cricketd's root needs a filesystem that overlayfs accepts as upper layer (not the guest's /).
modprobe -q loop && modprobe -q ext4 && truncate -s 6G /run/cricket-root.img &&
  mkfs.ext4 -q -F -O ^has_journal /run/cricket-root.img &&
  mkdir -p /var/lib/cricket && mount -t ext4 "$(losetup -f --show /run/cricket-root.img)" /var/lib/cricket ||
  exit 125
mount -t tmpfs tmpfs /tmp
# critest's AppArmor specs load their profiles with `sudo apparmor_parser`; the guest runs
# everything as root and has no sudo: a stand-in that runs the command as it is.
mkdir -p /tmp/critest-bin && printf '#!/bin/sh\nexec "$@"\n' >/tmp/critest-bin/sudo &&
  chmod 755 /tmp/critest-bin/sudo && export PATH="/tmp/critest-bin:$PATH" || exit 125
cd "$conformance" || exit 125
./registry.sh start || exit 125
cat >/tmp/cricket.toml <<TOML
[registry."localhost:5000"]
insecure = true
[registry."registry.k8s.io"]
mirrors = ["http://localhost:5000"]
mirror_only = true
[registry."gcr.io"]
mirrors = ["http://localhost:5000"]
mirror_only = true
TOML
# Root and state both on the ext4: critest probes the parent of the reported stateDir for
# idmapped mounts before its user-namespace spec (the guest's /run is a tmpfs, which the 6.1
# kernel cannot idmap: the spec would be skipped).
state=/var/lib/cricket/state
"$build/cri/cricketd" --config=/tmp/cricket.toml --root=/var/lib/cricket/root --state=$state "$@" \
  >"$results/cricketd.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do [ -S $state/cricket.sock ] && break; sleep 0.2; done
./critest.sh unix://$state/cricket.sock --mirror ${CRITEST_FOCUS:+--focus "$CRITEST_FOCUS"}
rc=$?
cp -r /var/tmp/harness-results/. "$results/"
kill "$pid"
wait "$pid"
./registry.sh stop
exit $rc
