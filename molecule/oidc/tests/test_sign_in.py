"""Who gets in, in a real browser against a real provider: the provider's login decides, the
email domain or the address allows, the app sees the identity nginx sets and nothing the client
claims. Who gets in by address alone, and the login-free path: test_access.py."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlsplit

from conftest import APP, HOST_VARS, Browser, get, header, sign_in
from oidc_provider import Provider


def at_provider(page: dict[str, Any], provider: Provider) -> bool:
    """The page is the provider's login form."""
    issuer = urlsplit(provider.issuer)
    url = urlsplit(page["url"])
    return url.netloc == issuer.netloc and url.path.startswith(issuer.path) and "Sign in" in page["text"]


def seen_by_app(page: dict[str, Any]) -> dict[str, str]:
    """The request headers the app's /headers endpoint shows, names in lowercase."""
    return {name.lower(): value for name, value in json.loads(page["text"]).items()}


def test_a_browser_signs_in_at_the_provider_and_comes_back_to_hello_world_as_the_user(
    browser: Browser, provider: Provider
) -> None:
    pages = browser.run(
        [
            {"goto": APP},
            {"screenshot": "1-login-page"},
            *sign_in("alice", "alice-password", "2-alice"),
            {"goto": APP + "headers"},
        ]
    )
    assert at_provider(pages[0], provider), pages[0]
    back = pages[-3]  # the click on the provider's Sign In
    assert back["url"] == APP, back
    assert back["status"] == 200
    assert back["text"].strip() == "Hello World"
    seen = seen_by_app(pages[-1])
    assert seen["x-forwarded-user"] == "alice"
    assert seen["x-forwarded-email"] == "alice@example.test"
    assert seen["x-forwarded-groups"] == "app-users"
    assert "authorization" not in seen


def test_a_browser_comes_back_to_the_page_it_asked_for(browser: Browser, provider: Provider) -> None:
    pages = browser.run(
        [{"goto": APP + "headers?from=deep-link"}, *sign_in("alice", "alice-password", "alice")]
    )
    assert at_provider(pages[0], provider), pages[0]
    assert pages[-1]["url"] == APP + "headers?from=deep-link"
    assert seen_by_app(pages[-1])["x-forwarded-user"] == "alice"


def test_a_wrong_password_stays_at_the_provider(browser: Browser, provider: Provider) -> None:
    pages = browser.run([{"goto": APP}, *sign_in("alice", "alice-passwort", "wrong")])
    after = pages[-1]
    assert at_provider(after, provider), after
    assert "Invalid username or password" in after["text"]


def test_a_user_outside_the_group_gets_403(browser: Browser) -> None:
    # bob@example.test: in sidecar_app_oidc_email_domains, not in sidecar_app_oidc_allowed_groups.
    pages = browser.run([{"goto": APP}, *sign_in("bob", "bob-password", "bob"), {"goto": APP}])
    assert pages[-2]["status"] == 403, pages[-2]
    assert "Hello World" not in pages[-2]["text"]
    # Still signed in at the provider, bob is sent through it again and refused again.
    assert pages[-1]["status"] == 403, pages[-1]
    assert "Hello World" not in pages[-1]["text"]


def test_a_group_member_from_a_domain_nobody_allows_gets_403(
    browser: Browser,
) -> None:
    # dave@elsewhere.test: in app-users, but neither his domain nor his address is allowed.
    pages = browser.run([{"goto": APP}, *sign_in("dave", "dave-password", "dave")])
    assert pages[-1]["status"] == 403, pages[-1]
    assert "Hello World" not in pages[-1]["text"]


def test_after_sign_out_a_reload_asks_to_log_in_again(browser: Browser, provider: Provider) -> None:
    pages = browser.run(
        [
            {"goto": APP},
            *sign_in("alice", "alice-password", "1-alice"),
            {"goto": APP + "oauth2/sign_out"},
            {"screenshot": "2-signed-out"},
            {"reload": True},
            {"screenshot": "3-reload"},
        ]
    )
    assert pages[4]["text"].strip() == "Hello World"
    # sign_out sends the browser to / ; the provider's session ended too (backend logout), so it
    # shows its login form instead of signing alice in again without asking.
    assert at_provider(pages[-3], provider), pages[-3]
    assert at_provider(pages[-1], provider), pages[-1]


def test_an_api_client_without_a_session_gets_401_not_a_redirect() -> None:
    for accept in ("application/json", "*/*", None):
        status, headers, _body = get("", {"Accept": accept} if accept else None)
        assert status == 401, accept
        assert header(headers, "Location") == []


def test_oauth2_proxy_answers_its_probe_through_nginx_without_a_session() -> None:
    status, _headers, body = get("healthz/oauth2-proxy")
    assert (status, body) == (200, "OK")


def test_a_browser_without_a_session_is_sent_to_sign_in() -> None:
    status, headers, _body = get("headers", {"Accept": "text/html"})
    assert status == 302
    assert header(headers, "Location") == ["/oauth2/start?rd=%2Fheaders"]


def test_the_security_headers_hold_on_the_refusal_the_redirect_and_the_sign_in() -> None:
    for path, accept in (("", "application/json"), ("", "text/html"), ("oauth2/start?rd=%2F", "text/html")):
        status, headers, _body = get(path, {"Accept": accept})
        assert status in (302, 401), (path, status)
        assert header(headers, "X-Frame-Options") == ["DENY"], path
        assert header(headers, "X-Content-Type-Options") == ["nosniff"], path
        assert header(headers, "Referrer-Policy") == ["no-referrer"], path


def test_identity_headers_sent_by_the_client_never_reach_the_app(browser: Browser) -> None:
    claimed = {
        "X-Forwarded-User": "mallory",
        "X-Forwarded-Email": "mallory@example.test",
        "X-Forwarded-Groups": "admins",
    }
    pages = browser.run(
        [
            {"goto": APP},
            *sign_in("alice", "alice-password", "alice"),
            {"headers": claimed},
            {"goto": APP + "headers"},
        ]
    )
    seen = seen_by_app(pages[-1])
    assert seen["x-forwarded-user"] == "alice"
    assert seen["x-forwarded-email"] == "alice@example.test"
    assert seen["x-forwarded-groups"] == "app-users"
    assert "mallory" not in pages[-1]["text"]
    # Without a session, the claim gets nobody in.
    assert get("headers", claimed)[0] == 401


def test_the_app_gets_the_access_token_only_when_asked_for(browser: Browser, provider: Provider) -> None:
    forged = {"X-Forwarded-Access-Token": "forged.by.mallory"}
    pages = browser.run(
        [
            {"goto": APP},
            *sign_in("alice", "alice-password", "alice"),
            {"headers": forged},
            {"goto": APP + "headers"},
        ]
    )
    seen = seen_by_app(pages[-1])
    assert "forged.by.mallory" not in pages[-1]["text"]
    if not HOST_VARS.get("sidecar_app_oidc_pass_access_token"):
        assert "x-forwarded-access-token" not in seen
        return
    # The provider's own JWT for alice (its signature is the app's to check).
    _header, payload, _signature = seen["x-forwarded-access-token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["iss"] == provider.issuer
    assert claims["preferred_username"] == "alice"


def test_the_session_cookie_is_httponly_secure_and_samesite_lax(browser: Browser) -> None:
    pages = browser.run(
        [{"goto": APP}, *sign_in("alice", "alice-password", "alice"), {"goto": APP, "cookies": True}]
    )
    session = [cookie for cookie in pages[-1]["cookies"] if cookie["name"] == "_oauth2_proxy"]
    assert len(session) == 1, pages[-1]["cookies"]
    assert session[0]["httpOnly"] is True
    assert session[0]["secure"] is True
    assert session[0]["sameSite"] == "Lax"


def test_the_app_gets_its_own_cookies_but_never_the_session_cookie(browser: Browser) -> None:
    pages = browser.run(
        [{"goto": APP}, *sign_in("alice", "alice-password", "alice"), {"goto": APP, "cookies": True}]
    )
    session = next(cookie["value"] for cookie in pages[-1]["cookies"] if cookie["name"] == "_oauth2_proxy")
    status, _headers, body = get("headers", {"Cookie": f"theme=dark; _oauth2_proxy={session}; lang=fi"})
    assert status == 200
    seen = {name.lower(): value for name, value in json.loads(body).items()}
    assert seen["x-forwarded-user"] == "alice"
    assert [part.strip() for part in seen["cookie"].split(";") if part.strip()] == ["theme=dark", "lang=fi"]
    assert session not in body
    # The session cookie alone: the app gets no Cookie header at all.
    status, _headers, body = get("headers", {"Cookie": f"_oauth2_proxy={session}"})
    assert status == 200
    assert "cookie" not in {name.lower() for name in json.loads(body)}
