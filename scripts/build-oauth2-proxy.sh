#!/usr/bin/env bash
# oauth2-proxy, pinned, built from its Go module and put in a local image; prints the image name.
# The role's sidecar_app_auth oidc deploys it on podman (its default sidecar_app_oauth2_proxy_image);
# make bench compares against it. Idempotent: the binary is cached
# per version, and the image is rebuilt only when the cached binary differs from the image's.
#   usage: scripts/build-oauth2-proxy.sh [BASE_IMAGE]     (default: the role's base image)
set -euo pipefail
version=${OAUTH2_PROXY_VERSION:-v7.15.6}
base=${1:-docker.io/library/debian:bookworm-slim}
image=localhost/authproxy/oauth2-proxy:$version
cache=${XDG_CACHE_HOME:-$HOME/.cache}/authproxy-sidecar/oauth2-proxy/$version
binary=$cache/oauth2-proxy

if [ ! -x "$binary" ]; then
  echo "Building oauth2-proxy $version from its Go module (a few minutes, once) ..." >&2
  mkdir -p "$cache"
  staging=$(mktemp -d "$cache/.build.XXXXXX")
  trap 'rm -rf "$staging"' EXIT
  # As upstream's Makefile builds it: static (no cgo), so it runs on any base image whatever
  # the host's C library, and with its version set, so that --version names the pin.
  CGO_ENABLED=0 GOBIN=$staging go install \
    -ldflags="-X github.com/oauth2-proxy/oauth2-proxy/v7/pkg/version.VERSION=$version" \
    "github.com/oauth2-proxy/oauth2-proxy/v7@$version" >&2
  mv "$staging/oauth2-proxy" "$binary"
fi

digest=$(sha256sum "$binary" | cut -d' ' -f1)
label=io.authproxy.sidecar.oauth2-proxy-sha256
if [ "$(podman image inspect --format "{{index .Labels \"$label\"}}" "$image" 2>/dev/null)" != "$digest" ]; then
  # USER: upstream image's (distroless nonroot, no group 0), so that the role is tested with what
  # clusters run by default. The cache directory is the build context: it holds the binary and nothing else to send.
  podman build --quiet --pull=never --tag "$image" --label "$label=$digest" --file - "$cache" >/dev/null <<EOF
FROM $base
COPY oauth2-proxy /usr/local/bin/oauth2-proxy
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/oauth2-proxy"]
EOF
fi
echo "$image"
