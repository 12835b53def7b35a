#!/usr/bin/env bash
# Install the system packages `make` needs on Debian/Ubuntu, only those that are missing:
# `install-packages.sh deploy` what deploying needs (make deploy, verify, teardown), with no
# argument that and what the tests need too (make setup, make test).
set -euo pipefail

# Deploying: podman and what it needs here, mmdebstrap for a base image where no registry
# answers, the virtualenv. skopeo: the role asks a registry whether it has an image before
# pushing it. catatonit: podman builds its local pause image (pods without a registry) around
# it; it is only a recommendation of podman, which --no-install-recommends leaves out.
packages=(podman runc catatonit uidmap mmdebstrap python3-venv skopeo)

# Testing: wrk for make bench; shellcheck for the sanity test of the collection's shell scripts
# (make collection).
#
# The local cluster (scripts/local-cluster/cluster.sh): containerd, the CNI plugins, iptables for
# kube-proxy, Debian's image registry, curl, and gcc with static libc for the pause program; go
# comes from the machine (1.26 or later), as the Kubernetes module needs.
#
# The verifier's ldap mode: slapd and ldap-utils for the test directory (tests/ldap_directory.py
# starts a slapd of its own; the one the package may start is not used), libldap2-dev and
# libsasl2-dev and python3-dev (Python.h) to build python-ldap in the virtualenv.
#
# The oidc mode's tests: a Java runtime for the test Keycloak (tests/oidc_provider.py), Debian's
# chromium for the real browser, node and npm for playwright-core (tests/browser/package.json,
# which never downloads a browser of its own). A node that is already there (nodesource's nodejs
# carries npm) is kept.
case ${1:-all} in
  deploy) ;;
  all)
    packages+=(curl wrk shellcheck
      containerd containernetworking-plugins iptables docker-registry gcc libc6-dev openssl iproute2 procps
      slapd ldap-utils libldap2-dev libsasl2-dev python3-dev
      openjdk-17-jre-headless chromium nodejs)
    command -v npm >/dev/null || packages+=(npm)
    ;;
  *) echo "usage: $0 [deploy|all]" >&2; exit 2 ;;
esac
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
# A python3 that can already make virtualenvs (pyenv, python.org builds) needs no python3-venv.
if python3 -c 'import ensurepip, venv' 2>/dev/null; then
  missing=("${missing[@]/python3-venv}")
fi
read -r -a missing <<<"${missing[*]}"
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
