#!/usr/bin/env bash
# Inside a hack/vm guest: serves the open registry of a registry fixture that
# hack/test-registry/start made on the host (same address, same data, read through the guest's
# view of the host's files), runs COMMAND, stops the registry and exits with COMMAND's status.
# Also puts a tmpfs on /tmp: the guest's / is an overlayfs, which cannot be the upper layer of
# the overlay snapshots the tests' cricketd makes under $TMPDIR.
#
#   guest-registry.sh STATE COMMAND [ARGS...]
set -uo pipefail
state=$1
shift
mount -t tmpfs -o mode=1777 tmpfs /tmp || exit 125
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
