"""Who may use `/_fake/` (the control API and the inspector): loopback clients, or, when the
fake was started with an admin token, whoever presents it, from anywhere.

The token comes as a bearer (scripts, `RemoteFake`) or as the password of HTTP Basic auth
(a browser asks for it once, then sends it with every request to `/_fake/`, the inspector's
own calls included), so it never has to be put in a page or a link.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
from urllib.parse import urlsplit

from starlette.requests import Request

from nemo_fake.errors import ApiError, Code
from nemo_fake.http.auth import bearer_token


def admit(request: Request) -> None:
    """Returns when the caller may use `/_fake/`; raises 1001 for a missing or wrong admin
    token, and 404 (nothing there, as far as another machine can tell) without one. A request
    a browser sent for a page of another origin is a 400, whoever it came from."""
    _refuse_other_origins(request)
    admin_token: str | None = request.app.state.admin_token
    if admin_token is not None:
        given = bearer_token(request) or _basic_password(request) or ""
        # Bytes, not str: compare_digest refuses non-ASCII text, and a bearer may be anything.
        if not hmac.compare_digest(given.encode("utf-8"), admin_token.encode("utf-8")):
            raise ApiError(Code.BAD_TOKEN, "The control API needs the admin token")
        return
    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ApiError(Code.NOT_FOUND)


def _refuse_other_origins(request: Request) -> None:
    # Any web page a developer visits can make their browser send a form or a fetch to
    # 127.0.0.1, and a loopback caller needs no token: without this, a page could reset the
    # fake or add fault rules mid-test. Browsers name the page's origin on such requests;
    # scripts, curl and the inspector's own page (same origin) pass.
    origin = request.headers.get("origin")
    if origin is None:
        return
    if urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower():
        raise ApiError(
            Code.BAD_REQUEST,
            f"The control API does not answer web pages of other origins ({origin[:100]})",
        )


def _basic_password(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _user, colon, password = decoded.partition(":")
    return password if colon else None
