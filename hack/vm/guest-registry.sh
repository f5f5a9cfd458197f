#!/usr/bin/env bash
# Inside a hack/vm guest: serves the open registry of a registry fixture that
# hack/test-registry/start made on the host (same address, same data, read through the guest's
# view of the host's files), runs COMMAND, stops the registry and exits with COMMAND's status.
# Also puts a fresh filesystem on /tmp: the guest's / is an overlayfs, which cannot be the upper
# layer of the overlay snapshots the tests' cricketd makes under $TMPDIR.
#
#   guest-registry.sh STATE COMMAND [ARGS...]
set -uo pipefail
state=$1
shift
# ext4 on a loop device (sparse, in RAM) where the guest can make one: the 6.1 kernel cannot
# idmap tmpfs mounts (6.3 can), and user-namespace pods idmap their image layers. tmpfs else.
tmp_on_ext4() {
  local img=/run/guest-tmp.img dev
  modprobe -q loop && modprobe -q ext4 && truncate -s 4G "$img" &&
    mkfs.ext4 -q -F -O ^has_journal "$img" && dev=$(losetup -f --show "$img") &&
    mount -t ext4 "$dev" /tmp && chmod 1777 /tmp
}
if ! tmp_on_ext4 2>/tmp/.guest-tmp.err; then
  echo "guest-registry: /tmp is tmpfs (no ext4 loop: $(cat /tmp/.guest-tmp.err 2>/dev/null))" >&2
  mount -t tmpfs -o mode=1777 tmpfs /tmp || exit 125
fi
addr=$(sed -n 's/^REGISTRY=//p' "$state/env")
docker-registry serve "$state/open/config.yml" </dev/null >/tmp/guest-registry.log 2>&1 &
pid=$!
up=""
for _ in $(seq 1 300); do
  if curl -sf -o /dev/null "http://$addr/v2/"; then
    up=1
    break
  fi
  sleep 0.2
done
if [ -z "$up" ]; then
  echo "guest-registry: the registry on $addr did not start:" >&2
  cat /tmp/guest-registry.log >&2
  kill "$pid"
  exit 125
fi
"$@"
rc=$?
kill "$pid"
wait "$pid" 2>/dev/null
exit $rc
