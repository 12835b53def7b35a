"""The tutorial's Hello World, served by gunicorn on 127.0.0.1 inside the pod."""

import os

from flask import Flask, request

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello World"


@app.get("/healthz")
def healthz() -> tuple[str, int]:
    return "ok", 200


if os.environ.get("HELLO_ECHO_HEADERS") == "1":
    # Opt-in, for tests: shows which request headers the sidecar lets through to the app; also
    # under /public/, which tests make a login-free path (sidecar_app_login_free_paths).
    @app.get("/headers")
    @app.get("/public/headers")
    def headers() -> dict[str, str]:
        return dict(request.headers)
