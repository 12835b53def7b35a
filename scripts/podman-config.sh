#!/usr/bin/env bash
# Print the CONTAINERS_CONF line podman needs on this machine, or nothing when podman's own
# defaults work. Sandboxes and some CI runners refuse crun's rlimit changes or systemd cgroups;
# files/podman/containers.conf holds the settings that work there.
set -euo pipefail
image=$1
conf="$(cd "$(dirname "$0")/.." && pwd)/files/podman/containers.conf"

if CONTAINERS_CONF='' podman run --rm --user 1000680000:0 --read-only --memory 32m "$image" true >/dev/null 2>&1; then
  exit 0
fi
if CONTAINERS_CONF="$conf" podman run --rm --user 1000680000:0 --read-only --memory 32m "$image" true >/dev/null 2>&1; then
  echo "export CONTAINERS_CONF := $conf"
  exit 0
fi
echo "podman cannot run a container here, with its defaults or with $conf:" >&2
CONTAINERS_CONF="$conf" podman run --rm "$image" true >&2 || true
exit 1
