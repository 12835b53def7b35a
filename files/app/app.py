"""The tutorial's Hello World, served by gunicorn on 127.0.0.1 inside the pod."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello World"


@app.get("/healthz")
def healthz() -> tuple[str, int]:
    return "ok", 200
