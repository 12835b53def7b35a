#!/usr/bin/env bash
# Make sure the base image is available to podman: present already, pulled from its registry,
# or, where no registry can be reached, built from Debian's package mirror with mmdebstrap and
# stored under the same name, so the role runs unchanged either way.
set -euo pipefail
image=$1
suite=${BASE_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# The recipe below, named in the image's label: an image built here by an older recipe is
# built again; a pulled image (no such label) is kept.
recipe=mmdebstrap-$suite-3
if podman image exists "$image"; then
  built=$(podman image inspect --format '{{index .Labels "io.authproxy.sidecar.base"}}' "$image")
  case $built in
    "$recipe" | "" | "<no value>") exit 0 ;;
  esac
  older=$(podman image inspect --format '{{.Id}}' "$image")
  echo "$image was built here by an older recipe ($built); building it again from $mirror ($suite) with mmdebstrap"
elif timeout 60 podman pull --quiet "$image" >/dev/null 2>&1; then
  exit 0
else
  echo "No registry answered for $image; building it from $mirror ($suite) with mmdebstrap"
fi
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
# The same trimming the official -slim images do: no docs, man pages or locales. And their
# settings for builds (debuerreotype's minimizing config), which the --dpkgopt and --aptopt
# lines keep in the image: dpkg does not sync every file it unpacks (2 s of each of our
# builds here), apt fetches no translations, and no service starts during a build (minbase
# has none to start, so mmdebstrap's own policy-rc.d, which would replace ours, is skipped).
# The hooks run in a shell of mmdebstrap's, which expands "$1" (the root directory) there.
# shellcheck disable=SC2016
mmdebstrap --variant=minbase --quiet \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='force-unsafe-io' \
  --aptopt='APT::Install-Recommends "false"' \
  --aptopt='Acquire::Languages "none"' \
  --skip=chroot/policy-rc.d \
  --customize-hook='printf "#!/bin/sh\nexit 101\n" > "$1"/usr/sbin/policy-rc.d && chmod 0755 "$1"/usr/sbin/policy-rc.d' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
  "$suite" "$workdir/rootfs.tar" "$mirror"
podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/bash"]' \
  --change "LABEL io.authproxy.sidecar.base=$recipe" \
  "$workdir/rootfs.tar" "$image" >/dev/null
# The older one, unless images built on it still need it.
if [ -n "${older:-}" ]; then
  podman image rm "$older" >/dev/null 2>&1 || echo "kept the older $older: images built on it use it"
fi
