"""The browser console (``web/``, built into ``web/dist``) served at ``/``.

A single-page app: a file of the build is sent as it is (its hashed ``assets/`` cached for
a year), and any other path is the app's own route (``/inbox``, ``/verify-email?token=…``)
answered with ``index.html``, never cached, so a new build reaches browsers at once. The
API and the service's own paths (``/v1``, ``/health``, ``/docs``, …) are never the
app's: an unknown one stays a JSON 404. Not an API endpoint, so not in ``/openapi.json``.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, current_app, send_from_directory
from werkzeug.routing import PathConverter
from werkzeug.security import safe_join

from api.errors import fail

#: First path segments that belong to the service, not to the app's routes.
RESERVED = frozenset({"v1", "health", ".well-known", "docs", "openapi.json", "socket.io"})
#: Response headers of every file of the app: it talks to this origin only.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; "
        "style-src 'self' 'unsafe-inline'; font-src 'self' data:; object-src 'none'; "
        "base-uri 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

blp = Blueprint("console", __name__)


class AppPath(PathConverter):
    """A path that is not the service's own: the console's routes never match ``/v1/…``
    (so any method there stays the API's 404 or 405), ``/health``, ``/docs``, …"""

    regex = (
        "(?!(?:"
        + "|".join(re.escape(segment) for segment in sorted(RESERVED))
        + ")(?:/|$))"
        + PathConverter.regex
    )


@blp.record_once
def _register_converter(state) -> None:
    state.app.url_map.converters["app_path"] = AppPath


def _root() -> Path:
    return current_app.extensions["turumba.config"].console_dir


@blp.get("/", defaults={"path": ""})
@blp.get("/<app_path:path>")
def page(path: str):
    root = _root()
    if not (root / "index.html").is_file():
        fail(
            503,
            "console_not_built",
            "The browser console is not built: `python3 dev.py run` builds it "
            "(or `npm run build` in web/).",
        )
    found = safe_join(str(root), path) if path else None
    if found and Path(found).is_file():
        immutable = path.startswith("assets/")
        response = send_from_directory(root, path, max_age=31536000 if immutable else 0)
    else:
        response = send_from_directory(root, "index.html", max_age=0)
        response.cache_control.no_cache = True
    response.headers.update(SECURITY_HEADERS)
    return response
