"""Who may call the application's write endpoints, such as `POST /feedback`.

Labels posted to /feedback decide the A/B report (and, from level 4, when to retrain), so a write
endpoint takes a credential: a token in an environment variable (`FEEDBACK_TOKEN` for /feedback).
When the token is set, every request needs `Authorization: Bearer <token>` (401 without it). When
it is not set, the endpoint answers only if the application listens on the loopback interface,
for local development; anywhere else it refuses every request (403) and names the variable.

The application learns where it listens from `UVICORN_HOST`, uvicorn's own setting of the address
it binds: `make serve`, the local deploy target and the demo set it to 127.0.0.1. The image's
command binds 0.0.0.0 with `--host` and sets no `UVICORN_HOST`, and an address the application is
not told counts as public: a container refuses writes until their tokens are set.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Mapping
from typing import Any

from fastapi import Depends, HTTPException, Request

BIND_HOST_ENV = "UVICORN_HOST"
FEEDBACK_TOKEN_ENV = "FEEDBACK_TOKEN"


def is_loopback(host: str) -> bool:
    """Whether `host` names the loopback interface: `localhost`, 127.0.0.0/8 or ::1."""
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bound_to_loopback(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the application listens on loopback only, as `UVICORN_HOST` says; unset, it does
    not (the image binds 0.0.0.0)."""
    return is_loopback(environ.get(BIND_HOST_ENV, ""))


def check(request: Request, token_env: str, environ: Mapping[str, str] = os.environ) -> None:
    """Lets `request` through when it carries the token of `token_env`, or when no token is set
    and the application listens on loopback; raises 401 or 403 otherwise."""
    token = environ.get(token_env, "")
    if not token:
        if bound_to_loopback(environ):
            return
        detail = (
            f"{request.url.path} is refused: set {token_env} where the application runs and "
            f"send it as a bearer token (without one, only an application bound to loopback, "
            f"{BIND_HOST_ENV}=127.0.0.1, takes writes)"
        )
        raise HTTPException(status_code=403, detail=detail)
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise HTTPException(
            status_code=401,
            detail=f"{request.url.path} needs `Authorization: Bearer <{token_env}>`",
            headers={"WWW-Authenticate": "Bearer"},
        )


def guard(token_env: str) -> Any:
    """A route dependency that checks the token of `token_env` before the request's body is
    read, so a caller without the credential learns nothing about the endpoint."""

    def dependency(request: Request) -> None:
        check(request, token_env)

    return Depends(dependency)
