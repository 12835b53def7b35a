#!/usr/bin/env bash
# Make sure the base image is available to podman: present already, pulled from its registry,
# or, where no registry can be reached, built from Debian's package mirror with mmdebstrap and
# stored under the same name, so the role runs unchanged either way.
set -euo pipefail
image=$1
suite=${BASE_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

podman image exists "$image" && exit 0
if timeout 60 podman pull --quiet "$image" >/dev/null 2>&1; then
  exit 0
fi

echo "No registry answered for $image; building it from $mirror ($suite) with mmdebstrap"
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
# The same trimming the official -slim images do: no docs, man pages or locales.
# The hook runs in a shell of mmdebstrap's, which expands "$1" (the root directory) there.
# shellcheck disable=SC2016
mmdebstrap --variant=minbase --quiet \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --aptopt='APT::Install-Recommends "false"' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
  "$suite" "$workdir/rootfs.tar" "$mirror"
podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/bash"]' \
  --change "LABEL io.authproxy.sidecar.base=mmdebstrap-$suite" \
  "$workdir/rootfs.tar" "$image" >/dev/null
