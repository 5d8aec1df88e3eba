"""The HTTP port's local-only side: static pages from the description, /local/token, /local/config.

Driven through werkzeug's test client against the same objects the HTTP emulator dispatches to,
so no stack starts; tests/e2e/test_local_pages_http.py checks the same over a real socket.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from arcadeflow import deployment
from arcadeflow.apigateway.local_endpoints import LocalEndpoints, LocalPages
from arcadeflow.auth import LocalIssuer


def _client(pages: LocalPages | None = None, endpoints: LocalEndpoints | None = None) -> Client:
    def app(environ, start_response):
        request = Request(environ)
        response = None
        if endpoints:
            response = endpoints.handle(request)
        if response is None and pages:
            response = pages.handle(request)
        if response is None:
            response = Response("no local page here", status=418)
        return response(environ, start_response)

    return Client(app)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    (folder / "sub").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><h1>home</h1>")
    (folder / "app.js").write_text("console.log('app')")
    (folder / "style.css").write_text("body{}")
    (folder / "sub" / "index.html").write_text("<p>sub</p>")
    (folder / ".secret").write_text("hidden")
    (tmp_path / "outside.txt").write_text("not served")
    (folder / "link-out.txt").symlink_to(tmp_path / "outside.txt")
    return folder


def test_files_are_served_with_the_content_type_a_browser_runs(site):
    client = _client(LocalPages({"/play": site}))
    cases = {
        "/play/": ("text/html; charset=utf-8", b"<h1>home</h1>"),
        "/play/index.html": ("text/html; charset=utf-8", b"<h1>home</h1>"),
        "/play/app.js": ("text/javascript; charset=utf-8", b"console.log"),
        "/play/style.css": ("text/css; charset=utf-8", b"body{}"),
        "/play/sub/": ("text/html; charset=utf-8", b"<p>sub</p>"),
    }
    for path, (content_type, fragment) in cases.items():
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"] == content_type, path
        assert fragment in response.data, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_bare_prefix_redirects_to_its_folder_so_relative_links_resolve(site):
    client = _client(LocalPages({"/play": site}))
    response = client.get("/play?debug=1")
    assert response.status_code == 308
    assert response.headers["Location"] == "/play/?debug=1"
    assert client.get("/play/sub").headers["Location"] == "/play/sub/"


@pytest.mark.parametrize(
    "path",
    [
        "/play/../outside.txt",
        "/play/%2e%2e/outside.txt",
        "/play/sub/../../outside.txt",
        "/play/..%2foutside.txt",
        "/play/..%5coutside.txt",
        "/play/.secret",
        "/play/link-out.txt",
        "/play//etc/passwd",
        "/play/%00",
        "/play/missing.js",
    ],
)
def test_nothing_outside_the_folder_nor_hidden_is_served(site, path):
    response = _client(LocalPages({"/play": site})).get(path)
    assert response.status_code == 404, path
    assert b"not served" not in response.data and b"hidden" not in response.data


def test_pages_answer_only_reads(site):
    response = _client(LocalPages({"/play": site})).post("/play/index.html", data=b"x")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"
    head = _client(LocalPages({"/play": site})).head("/play/app.js")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == str(len("console.log('app')"))


def test_a_path_beside_the_prefix_is_not_the_page(site):
    # /playground is not under /play: the API's routes (or a 404) answer it.
    assert _client(LocalPages({"/play": site})).get("/playground").status_code == 418


def test_the_longest_prefix_serves_its_own_folder(site, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "index.html").write_text("other page")
    client = _client(LocalPages({"/play": site, "/play/other": other}))
    assert client.get("/play/other/").data == b"other page"
    assert b"home" in client.get("/play/").data


# --- /local/token and /local/config ------------------------------------------------------------


@pytest.fixture
def issuer(tmp_path) -> LocalIssuer:
    return LocalIssuer(tmp_path / "state")


def _endpoints(issuer: LocalIssuer) -> LocalEndpoints:
    return LocalEndpoints(issuer, lambda: {"websocketUrl": "ws://127.0.0.1:9/local", "httpUrl": "http://x"})


def test_a_minted_token_is_one_the_api_accepts_for_that_user(issuer):
    client = _client(endpoints=_endpoints(issuer))
    response = client.post("/local/token", json={"userId": "alice", "name": "Alice"})
    assert response.status_code == 200
    claims = issuer.verify(response.json["token"])
    assert (claims["sub"], claims["name"]) == ("alice", "Alice")
    without_name = client.post("/local/token", json={"userId": "bob"})
    assert issuer.verify(without_name.json["token"])["name"] == "bob"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "userId"),
        ({"userId": ""}, "userId"),
        ({"userId": 7}, "userId"),
        ({"userId": "has space"}, "userId"),
        ({"userId": "x" * 129}, "userId"),
        ({"userId": "alice", "name": ""}, "name"),
        ({"userId": "alice", "name": "n" * 65}, "name"),
        ({"userId": "alice", "name": ["A"]}, "name"),
        ({"userId": "alice", "admin": True}, "admin"),
    ],
)
def test_a_bad_token_request_is_a_400_naming_the_field(issuer, body, field):
    response = _client(endpoints=_endpoints(issuer)).post("/local/token", json=body)
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "invalid_body"
    assert field in [d["field"] for d in error["details"]]


def test_a_token_request_that_is_not_a_json_object_is_refused(issuer):
    client = _client(endpoints=_endpoints(issuer))
    not_json = client.post("/local/token", data=b"{nope", content_type="application/json")
    assert (not_json.status_code, not_json.json["error"]["code"]) == (400, "malformed_body")
    a_list = client.post("/local/token", json=["alice"])
    assert (a_list.status_code, a_list.json["error"]["code"]) == (400, "invalid_body")
    # A cross-site form can post text/plain or form data without a preflight; never JSON.
    form = client.post("/local/token", data={"userId": "alice"})
    assert form.status_code == 415
    huge = client.post("/local/token", json={"userId": "a", "name": "b" * 5000})
    assert huge.status_code == 413
    assert client.get("/local/token").status_code == 405


def test_local_endpoints_refuse_a_host_that_is_not_loopback(issuer):
    # A DNS name rebound to 127.0.0.1 reaches the port with its own Host: no token for it.
    client = _client(endpoints=_endpoints(issuer))
    rebound = client.post("/local/token", json={"userId": "alice"}, headers={"Host": "evil.example:8000"})
    assert rebound.status_code == 403
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "localhost"):
        ok = client.post("/local/token", json={"userId": "alice"}, headers={"Host": host})
        assert ok.status_code == 200, host


def test_the_config_says_where_the_apis_are(issuer):
    client = _client(endpoints=_endpoints(issuer))
    response = client.get("/local/config")
    assert response.status_code == 200
    assert response.json == {"websocketUrl": "ws://127.0.0.1:9/local", "httpUrl": "http://x"}
    assert client.get("/local/elsewhere").status_code == 404


# --- the description's localPages section ------------------------------------------------------


def _raw() -> dict:
    return json.loads(deployment.DEFAULT_DESCRIPTION.read_text())


def test_the_checked_in_pages_are_folders_of_the_checkout():
    folders = deployment.load().local_page_folders()
    assert folders, "infra/deployment.json declares no localPages"
    for prefix, folder in folders.items():
        assert folder.is_dir() and (folder / "index.html").is_file(), prefix


@pytest.mark.parametrize(
    ("pages", "problem"),
    [
        ({"/play": "tools/no_such_folder"}, "no folder tools/no_such_folder"),
        ({"/play": "../"}, "not a folder inside the checkout"),
        ({"/play": "/etc"}, "not a folder inside the checkout"),
        ({"/play/": "tools"}, "a prefix is"),
        ({"play": "tools"}, "a prefix is"),
        ({"/Play": "tools"}, "a prefix is"),
        ({"/local": "tools"}, "the runtime serves 'local'"),
        ({"/health": "tools"}, "the runtime serves 'health'"),
        ({"/users": "tools"}, "it would hide route 'GET /users/{id}'"),
        ({"/games/x": "tools"}, "it would hide route 'GET /games/{gameId}/leaderboard'"),
    ],
)
def test_a_page_that_cannot_be_served_is_refused_at_load(pages, problem):
    raw = _raw()
    raw["localPages"] = pages
    with pytest.raises(ValidationError, match=problem):
        deployment.Deployment.model_validate(raw)


def test_a_route_under_local_is_refused_because_the_runtime_answers_it():
    raw = _raw()
    raw["httpApi"]["routes"]["GET /local/things"] = {"function": next(iter(raw["functions"]))}
    with pytest.raises(ValidationError, match="the runtime answers /local/ itself"):
        deployment.Deployment.model_validate(raw)


def test_pages_are_not_in_what_terraform_reads():
    resolved = deployment.load().resolved().to_json()
    assert "localPages" not in resolved and "tools/play" not in resolved
