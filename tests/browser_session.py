"""A real browser for the tests: tests/browser/browse.mjs (playwright-core driving Debian's chromium),
one fresh profile per call.

    pages = browse([{"goto": url}, {"fill": "#username", "value": "alice"}, ...], screenshots)

returns what the browser saw after each step: url, status (of the last document answer), title and
the page's visible text. Screenshots ({"screenshot": NAME}) go to screenshots/NAME.png.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

BROWSER_DIR = Path(__file__).resolve().parent / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


NETWORK_CHANGED = "net::ERR_NETWORK_CHANGED"
NETWORK_CHANGE_ATTEMPTS = 3


def browser_available() -> bool:
    """chromium, node and playwright-core (npm ci in tests/browser) are installed."""
    return (
        Path(CHROMIUM).exists()
        and shutil.which("node") is not None
        and (BROWSER_DIR / "node_modules" / "playwright-core").is_dir()
    )


def browse(
    steps: list[dict[str, Any]],
    screenshots: Path,
    host_map: dict[str, str] | None = None,
    trusted_keys: tuple[str, ...] = (),
    timeout: float = 120,
) -> list[dict[str, Any]]:
    """The steps in a fresh chromium. trusted_keys: base64 SHA-256 digests of the public keys
    (SPKI) of test servers whose certificates the browser accepts without knowing their CA."""
    screenshots.mkdir(parents=True, exist_ok=True)
    request = {
        "screenshots": str(screenshots),
        "hostMap": host_map or {},
        "trustedKeys": list(trusted_keys),
        "steps": steps,
    }

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["node", str(BROWSER_DIR / "browse.mjs")],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "CHROMIUM": CHROMIUM},
        )

    result = run()
    # A fresh browser again when chromium dropped a navigation because the machine's network
    # interfaces changed (net::ERR_NETWORK_CHANGED: another test's pod came or went).
    for _attempt in range(NETWORK_CHANGE_ATTEMPTS - 1):
        if result.returncode == 0 or NETWORK_CHANGED not in result.stderr:
            break
        result = run()
    if result.returncode != 0:
        raise RuntimeError(f"browse.mjs failed ({result.returncode}): {result.stderr[-3000:]}")
    pages: list[dict[str, Any]] = json.loads(result.stdout)
    return pages
