#!/usr/bin/env bash
# Runs critest (../shared/conformance, not part of this repository) against a cricketd inside a
# hack/vm guest booted with systemd (cgroup v2, AppArmor on). Outside CI: critest is not
# committed. Results (critest.sh's result directory, cricketd.log) land in RESULTS, shared
# with the host.
#
#   hack/vm/critest-in-vm.sh BUILD_DIR RESULTS [cricketd args...]   (on the host, root)
#   e.g. hack/vm/critest-in-vm.sh build /var/tmp/critest-vm --cgroup-driver=systemd
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" != --guest ]; then
  build=$(cd "$1" && pwd)
  results=$2
  shift 2
  mkdir -p "$results"
  results=$(cd "$results" && pwd)
  exec "$here/v2vm.sh" --systemd --mem 3072 --timeout 1800 --share "$results" -- \
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
"$build/cri/cricketd" --config=/tmp/cricket.toml --root=/var/lib/cricket --state=/run/cricket "$@" \
  >"$results/cricketd.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do [ -S /run/cricket/cricket.sock ] && break; sleep 0.2; done
./critest.sh unix:///run/cricket/cricket.sock --mirror
rc=$?
cp -r /var/tmp/harness-results/. "$results/"
kill "$pid"
wait "$pid"
./registry.sh stop
exit $rc
