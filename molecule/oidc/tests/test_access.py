"""sidecar_app_oidc_allowed_emails and sidecar_app_login_free_paths (molecule.yml), in a real
browser against a real provider: carol, in app-users but outside the email domains, gets in by
her address; /public answers without a session, and the app never sees an identity
there, neither a claimed one nor a signed-in browser's."""

from __future__ import annotations

import base64
import json
from typing import Any

from conftest import APP, Browser, get, sign_in

CLAIMED = {
    "X-Forwarded-User": "mallory",
    "X-Forwarded-Email": "mallory@example.test",
    "X-Forwarded-Groups": "app-users",
}
IDENTITY = {"x-forwarded-user", "x-forwarded-email", "x-forwarded-groups", "authorization"}


def seen_by_app(text: str) -> dict[str, str]:
    """The request headers the app's /headers endpoint shows, names in lowercase."""
    return {name.lower(): value for name, value in json.loads(text).items()}


def test_a_group_member_allowed_by_address_gets_in_as_herself(browser: Browser) -> None:
    pages: list[dict[str, Any]] = browser.run(
        [{"goto": APP}, *sign_in("carol", "carol-password", "carol"), {"goto": APP + "headers"}]
    )
    back = pages[-2]  # the click on the provider's Sign In
    assert back["url"] == APP, back
    assert back["status"] == 200
    assert back["text"].strip() == "Hello World"
    seen = seen_by_app(pages[-1]["text"])
    assert seen["x-forwarded-user"] == "carol"
    # Listed as Carol@Partner.test: oauth2-proxy compares addresses in lowercase.
    assert seen["x-forwarded-email"] == "carol@partner.test"
    assert seen["x-forwarded-groups"] == "app-users"


def test_a_login_free_path_answers_without_a_session_and_drops_every_claimed_identity() -> None:
    basic = "Basic " + base64.b64encode(b"mallory:a-password").decode()
    for accept in ("text/html", "application/json"):
        status, _headers, body = get("public/headers", CLAIMED | {"Authorization": basic, "Accept": accept})
        assert status == 200, (accept, body)
        seen = seen_by_app(body)
        assert not IDENTITY & set(seen), seen
        assert "mallory" not in body
    # The prefix itself too (the app has no page there: its own 404, no login asked).
    assert get("public", {"Accept": "text/html"})[0] == 404


def test_a_login_free_path_gives_the_app_no_identity_and_no_session_cookie_of_a_signed_in_browser(
    browser: Browser,
) -> None:
    pages = browser.run(
        [
            {"goto": APP},
            *sign_in("alice", "alice-password", "alice"),
            {"headers": CLAIMED},
            {"goto": APP + "public/headers", "cookies": True},
        ]
    )
    assert pages[-1]["status"] == 200, pages[-1]
    assert [cookie for cookie in pages[-1]["cookies"] if cookie["name"] == "_oauth2_proxy"]
    seen = seen_by_app(pages[-1]["text"])
    assert not IDENTITY & set(seen), seen
    assert "_oauth2_proxy" not in seen.get("cookie", "")


def test_only_the_login_free_path_is_free_however_the_path_is_spelled() -> None:
    json_client = {"Accept": "application/json"}
    # Not under /public/: the login is asked for.
    for path in (
        "publicity",
        "headers",
        "public/../headers",
        "public/%2e%2e/headers",
        "public/%2E%2E%2Fheaders",
    ):
        assert get(path, json_client)[0] == 401, path
    # Under /public/ as nginx sees it, but a step up for some frameworks: refused.
    for path in ("public/..;/headers", "public/%3B/headers", "public/..%5Cheaders", "public/..\\headers"):
        assert get(path, json_client)[0] == 400, path
