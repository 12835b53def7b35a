"""HTTP requests as the molecule scenarios' tests send them to the pod: Basic credentials, a
client named by X-Forwarded-For, and an answer (or -1) instead of an exception."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
from typing import NamedTuple


class Response(NamedTuple):
    status: int  # -1 when nothing answered
    headers: dict[str, str]
    body: str


def basic(user: str, password: str) -> str:
    """The Authorization header of HTTP Basic credentials."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def request(
    url: str,
    authorization: str | None = None,
    *,
    client: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> Response:
    """GET url with this Authorization header, as client (X-Forwarded-For) if given."""
    req = urllib.request.Request(url, headers=headers or {})
    if client is not None:
        req.add_header("X-Forwarded-For", client)
    if authorization is not None:
        req.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return Response(response.status, dict(response.headers), response.read().decode())
    except urllib.error.HTTPError as error:
        return Response(error.code, dict(error.headers), error.read().decode())
    except OSError:
        return Response(-1, {}, "")
