"""What the HTTP port serves only when embedded: the description's local pages and /local/*.

- Local pages (`localPages` in infra/deployment.json: URL prefix -> folder of the checkout) are
  static files, so a product can ship a page to try it in a browser with no build step. Nothing
  of them is resolved for Terraform: on AWS they do not exist.
- POST /local/token {"userId", "name"} -> {"token"}: what `arcadeflow token` prints, for a page
  that signs in without a terminal. On AWS tokens come from Cognito and this path is a 404.
- GET /local/config -> {"websocketUrl", "httpUrl"}: where a page finds the WebSocket API.

The emulator binds 127.0.0.1 only. A web page elsewhere could still reach it through the
browser (a DNS name rebound to 127.0.0.1, or a cross-site form post), so /local/* answers only
requests addressed to a loopback Host, and the token endpoint takes only application/json, which
a cross-site page cannot send without a CORS preflight this server never approves.
"""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from arcadeflow.auth import LocalIssuer

TOKEN_PATH = "/local/token"
CONFIG_PATH = "/local/config"
LOCAL_PREFIX = "/local/"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
# A token request is two short strings; anything larger is not one.
MAX_TOKEN_REQUEST_BYTES = 4096
MAX_USER_ID_LENGTH = 128
MAX_NAME_LENGTH = 64
# No whitespace or control characters: the id becomes the token's `sub` and a URL segment.
USER_ID_PATTERN = re.compile(r"^[^\s\x00-\x1f\x7f]+$")
# Explicit for what pages are made of: mimetypes reads the system's tables, which differ between
# machines (.js was text/plain on some), and a module script with the wrong type does not run.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
INDEX_FILE = "index.html"


def _error(status: int, code: str, message: str, details: list[dict[str, str]] | None = None) -> Response:
    """The API's one error shape (README), so a page handles every refusal alike."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return Response(json.dumps({"error": error}), status=status, content_type="application/json")


def _not_found() -> Response:
    return Response(json.dumps({"message": "Not Found"}), status=404, content_type="application/json")


def is_loopback_host(request: Request) -> bool:
    host = request.host.lower()
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name in LOOPBACK_HOSTS


def content_type_of(path: Path) -> str:
    known = CONTENT_TYPES.get(path.suffix.lower())
    if known:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


class LocalPages:
    """Static files under URL prefixes; longest prefix first, so nested prefixes work."""

    def __init__(self, folders: dict[str, Path]):
        self.folders = dict(sorted(folders.items(), key=lambda item: -len(item[0])))

    def match(self, path: str) -> tuple[str, Path, str] | None:
        """(prefix, folder, the rest of the path) of the page serving `path`, or None."""
        for prefix, folder in self.folders.items():
            if path == prefix or path.startswith(prefix + "/"):
                return prefix, folder, path[len(prefix) :]
        return None

    def handle(self, request: Request) -> Response | None:
        """The answer for a request under a page's prefix; None when no page serves its path."""
        matched = self.match(request.path)
        if matched is None:
            return None
        prefix, folder, rest = matched
        if request.method not in ("GET", "HEAD"):
            response = Response("Method Not Allowed", status=405, content_type="text/plain")
            response.headers["Allow"] = "GET, HEAD"
            return response
        if rest == "":
            # Relative links in the page (play.js) resolve against /prefix/, not against /.
            return _redirect(request, prefix + "/")
        file = self._file(folder, rest)
        if file is None:
            return _not_found()
        if file.is_dir():
            if not request.path.endswith("/"):
                return _redirect(request, request.path + "/")
            file = file / INDEX_FILE
            if not file.is_file():
                return _not_found()
        response = Response(
            file.read_bytes() if request.method == "GET" else b"",
            status=200,
            content_type=content_type_of(file),
        )
        if request.method == "HEAD":
            response.headers["Content-Length"] = str(file.stat().st_size)
        # Pages change while a developer edits them; a cached play.js beside a new index.html
        # would mix two versions.
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @staticmethod
    def _file(folder: Path, rest: str) -> Path | None:
        """The file or folder `rest` ("/a/b.js") names inside `folder`, or None if it names
        nothing there: no .., no hidden files, no backslashes, and no symlink out of the folder."""
        segments = rest.strip("/").split("/") if rest.strip("/") else []
        for segment in segments:
            if (
                segment in ("", ".", "..")
                or segment.startswith(".")
                or "\\" in segment
                or "\x00" in segment
                or ":" in segment
            ):
                return None
        candidate = folder.joinpath(*segments)
        try:
            resolved = candidate.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not resolved.is_relative_to(folder):
            return None
        return resolved


def _redirect(request: Request, location: str) -> Response:
    query = request.query_string.decode("latin-1")
    response = Response("", status=308)
    response.headers["Location"] = f"{location}?{query}" if query else location
    return response


class LocalEndpoints:
    """/local/token and /local/config: the runtime's own, never part of the product's API."""

    def __init__(self, issuer: LocalIssuer, config: Callable[[], dict[str, Any]]):
        self.issuer = issuer
        self.config = config

    def handle(self, request: Request) -> Response | None:
        if not request.path.startswith(LOCAL_PREFIX):
            return None
        if not is_loopback_host(request):
            return _error(403, "not_loopback", "local endpoints answer only requests to a loopback host")
        if request.path == TOKEN_PATH:
            if request.method != "POST":
                return _method_not_allowed("POST")
            return self._token(request)
        if request.path == CONFIG_PATH:
            if request.method != "GET":
                return _method_not_allowed("GET")
            return Response(json.dumps(self.config()), status=200, content_type="application/json")
        return _not_found()

    def _token(self, request: Request) -> Response:
        if request.mimetype != "application/json":
            return _error(415, "unsupported_media_type", "send the body as application/json")
        too_large = f"a token request is at most {MAX_TOKEN_REQUEST_BYTES} bytes"
        if (request.content_length or 0) > MAX_TOKEN_REQUEST_BYTES:
            return _error(413, "body_too_large", too_large)
        raw = request.get_data(cache=False)
        if len(raw) > MAX_TOKEN_REQUEST_BYTES:
            return _error(413, "body_too_large", too_large)
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "malformed_body", "the body is not JSON")
        except RecursionError:
            # json.loads recurses per level; a token request is one flat object.
            return _error(400, "invalid_body", "the body is nested too deeply")
        if not isinstance(body, dict):
            return _error(400, "invalid_body", 'the body is an object {"userId", "name"}')
        details = _token_request_problems(body)
        if details:
            return _error(400, "invalid_body", "the token request is not valid", details)
        user_id = body["userId"]
        token = self.issuer.mint(user_id, body.get("name") or user_id)
        return Response(json.dumps({"token": token}), status=200, content_type="application/json")


def _token_request_problems(body: dict[str, Any]) -> list[dict[str, str]]:
    problems = []
    unknown = sorted(set(body) - {"userId", "name"})
    for field in unknown:
        problems.append({"field": field, "problem": "unknown field"})
    user_id = body.get("userId")
    if not isinstance(user_id, str) or not user_id:
        problems.append({"field": "userId", "problem": "required, a non-empty string"})
    elif len(user_id) > MAX_USER_ID_LENGTH:
        problems.append({"field": "userId", "problem": f"at most {MAX_USER_ID_LENGTH} characters"})
    elif not USER_ID_PATTERN.match(user_id):
        problems.append({"field": "userId", "problem": "no whitespace or control characters"})
    name = body.get("name")
    if name is not None:
        if not isinstance(name, str) or not name.strip():
            problems.append({"field": "name", "problem": "a non-empty string"})
        elif len(name) > MAX_NAME_LENGTH:
            problems.append({"field": "name", "problem": f"at most {MAX_NAME_LENGTH} characters"})
    return problems


def _method_not_allowed(allowed: str) -> Response:
    response = _error(405, "method_not_allowed", f"use {allowed}")
    response.headers["Allow"] = allowed
    return response
