"""Who gets in: the directory decides, with the group; the app sees the name, never the password."""

from __future__ import annotations

import json

from conftest import BASE_URL, get
from http_requests import request


def test_the_right_password_gets_the_app_which_sees_the_user_but_never_authorization() -> None:
    answer = get("alice", "alice-password", "198.51.100.1", "headers")
    assert answer.status == 200
    seen = {name.lower(): value for name, value in json.loads(answer.body).items()}
    assert seen["x-forwarded-user"] == "alice"
    assert "authorization" not in seen
    assert "alice-password" not in answer.body
    assert get("alice", "alice-password", "198.51.100.1").body.strip() == "Hello World"


def test_a_wrong_password_is_refused() -> None:
    assert get("alice", "alice-passwort", "198.51.100.2").status == 401


def test_an_unknown_user_is_refused() -> None:
    assert get("mallory", "alice-password", "198.51.100.3").status == 401


def test_a_user_outside_the_group_is_refused_with_the_right_password() -> None:
    assert get("bob", "bob-password", "198.51.100.4").status == 401


def test_an_empty_password_is_refused() -> None:
    assert get("alice", "", "198.51.100.5").status == 401


def test_no_credentials_get_a_basic_challenge() -> None:
    answer = request(BASE_URL)
    assert answer.status == 401
    assert answer.headers.get("WWW-Authenticate", "").startswith("Basic ")


def test_filter_characters_in_a_name_match_no_one_else() -> None:
    assert get("*", "alice-password", "198.51.100.6").status == 401
    assert get("star*", "star-password", "198.51.100.6").status == 200
