#!/usr/bin/env bash
# Try sidecar_app_auth oidc on this machine: the tests' Keycloak (tests/oidc_provider.py) and the
# Hello World app behind nginx and oauth2-proxy on podman, then sign in with a browser.
#   make oidc-demo        start both and print the URL and the users (alice may sign in, bob not)
#   make oidc-demo-down   remove both
# (make gives it the project's virtualenv and settings.)
# The provider listens on podman's bridge address, which the pod and this machine's browser both
# reach; it is a test provider over plain http (sidecar_app_oidc_allow_insecure), never for real use.
set -euo pipefail
cd "$(dirname "$0")/.."
name=oidc-demo
port=${OIDC_DEMO_PORT:-18091}
base=${SIDECAR_APP_BASE_IMAGE:-docker.io/library/debian:bookworm-slim}
provider=${XDG_STATE_HOME:-$HOME/.local/state}/authproxy-sidecar/$name-provider
python=.venv/bin/python

deploy_vars() {  # the inputs of the oidc mode, as JSON for -e; the client secret comes from the environment
  local issuer=$1
  cat <<JSON
{"sidecar_app_name": "$name", "sidecar_app_publish_port": $port, "sidecar_app_auth": "oidc",
 "sidecar_app_base_image": "$base", "sidecar_app_app_env": {"HELLO_ECHO_HEADERS": "1"},
 "sidecar_app_oidc_issuer_url": "$issuer", "sidecar_app_oidc_client_id": "sidecar",
 "sidecar_app_oidc_allow_insecure": true, "sidecar_app_oidc_allowed_groups": ["app-users"],
 "sidecar_app_oidc_backend_logout_url": "$issuer/protocol/openid-connect/logout?id_token_hint={id_token}"}
JSON
}

if [ "${1:-}" = down ]; then
  SIDECAR_APP_OIDC_CLIENT_SECRET=unused ansible-playbook playbooks/teardown.yml \
    -e "$(deploy_vars http://127.0.0.1/realms/authproxy)"
  "$python" tests/oidc_provider.py stop "$provider"
  rm -rf "$provider"
  exit 0
fi

scripts/build-oauth2-proxy.sh "$base" >/dev/null
address=$(podman run --rm --pull=never "$base" getent hosts host.containers.internal | awk '{print $1}')
started=$("$python" tests/oidc_provider.py start "$provider" --address="$address" \
  --redirect-uri="http://127.0.0.1:$port/oauth2/callback")
issuer=$("$python" -c 'import json, sys; print(json.loads(sys.argv[1])["issuer"])' "$started")
SIDECAR_APP_OIDC_CLIENT_SECRET=$(cat "$provider/client-secret") \
  ansible-playbook playbooks/deploy.yml -e "$(deploy_vars "$issuer")"
echo "Open http://127.0.0.1:$port/ and sign in at $issuer as alice / alice-password (in app-users)"
echo "or bob / bob-password (not: 403). http://127.0.0.1:$port/headers shows what the app gets."
echo "Remove both: make oidc-demo-down"
