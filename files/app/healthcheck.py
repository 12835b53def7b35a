"""Exec probe: the app listens on 127.0.0.1 only, so the kubelet cannot reach it over HTTP."""

import os
import sys
import urllib.request

PORT = os.environ.get("APP_PORT", "8080")

try:
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=2) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError:
    sys.exit(1)
