#!/usr/bin/env bash
# rclone, pinned, built from its Go module for the tests' S3 server (`rclone serve s3`, which
# Debian's rclone 1.60 lacks; the pod's own rclone is Debian's). Prints the binary's path.
# Cached per version like the local cluster (~6 min on 2 CPUs the first time, then at once);
# a second caller waits for a build under way (make test starts one in the background).
#   usage: scripts/build-rclone.sh
set -euo pipefail
version=${RCLONE_VERSION:-v1.75.1}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/authproxy-sidecar/rclone/$version
binary=$cache/rclone

mkdir -p "$cache"
exec 9>"$cache/build.lock"
flock 9
if [ ! -x "$binary" ]; then
  # Go's own installer puts it in /usr/local/go, which a non-login shell may not have on PATH.
  command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
  command -v go >/dev/null || { echo "go (1.26 or later) is needed to build rclone" >&2; exit 1; }
  echo "Building rclone $version from its Go module (a few minutes, once) ..." >&2
  staging=$(mktemp -d "$cache/.build.XXXXXX")
  trap 'rm -rf "$staging"' EXIT
  # Static (no cgo), as upstream releases it; the version comes from the module's own tag.
  CGO_ENABLED=0 GOBIN=$staging go install -trimpath -ldflags '-s -w' "github.com/rclone/rclone@$version" >&2
  "$staging/rclone" version | grep -q "^rclone $version" || { echo "built rclone is not $version" >&2; exit 1; }
  mv "$staging/rclone" "$binary"
fi
echo "$binary"
