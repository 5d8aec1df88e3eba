"""The local-only side of the HTTP port, over a real socket against `arcadeflow up`: the
description's pages, /local/token and /local/config, and that none of it is in the API's
OpenAPI document (what Terraform deploys has none of it)."""

from __future__ import annotations

import asyncio
import http.client
import json

import pytest
import requests
from websockets.asyncio.client import connect

# The play page, the local token route and /openapi.json are the HTTP port's own routes.
pytestmark = [pytest.mark.e2e, pytest.mark.needs("local_routes")]


def _raw_get(stack, path: str) -> tuple[int, bytes]:
    """GET with the path sent byte for byte (requests and browsers would normalise the ..)."""
    conn = http.client.HTTPConnection("127.0.0.1", stack.http_port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_the_play_page_and_its_script_are_served(stack):
    page = requests.get(f"{stack.http_url}/play/", timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert 'src="play.js"' in page.text
    script = requests.get(f"{stack.http_url}/play/play.js", timeout=10)
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    bare = requests.get(f"{stack.http_url}/play", allow_redirects=False, timeout=10)
    assert (bare.status_code, bare.headers["Location"]) == (308, "/play/")
    assert stack.endpoints()["pages"] == {"/play": f"{stack.http_url}/play/"}


@pytest.mark.parametrize(
    "path",
    [
        "/play/../../pyproject.toml",
        "/play/%2e%2e/%2e%2e/pyproject.toml",
        "/play/..%2f..%2fpyproject.toml",
        "/play/../../.arcadeflow/jwt-signing-key.pem",
        "/play/%2E%2E%5C%2E%2E%5Cpyproject.toml",
    ],
)
def test_a_path_out_of_the_page_folder_is_refused(stack, path):
    status, body = _raw_get(stack, path)
    assert status == 404
    assert b"[project]" not in body and b"PRIVATE KEY" not in body


def test_a_minted_token_signs_in_to_both_apis(stack):
    minted = requests.post(
        f"{stack.http_url}/local/token", json={"userId": "page-user", "name": "Page User"}, timeout=10
    )
    assert minted.status_code == 200
    token = minted.json()["token"]
    online = requests.get(
        f"{stack.http_url}/presence/online", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert online.status_code == 200
    config = requests.get(f"{stack.http_url}/local/config", timeout=10).json()
    assert config == {"websocketUrl": stack.endpoints()["websocket"], "httpUrl": stack.http_url}

    async def ping() -> dict:
        async with connect(f"{config['websocketUrl']}?token={token}") as ws:
            await ws.send(json.dumps({"action": "ping", "id": "p1"}))
            return json.loads(await asyncio.wait_for(ws.recv(), 10))

    assert asyncio.run(ping()) == {"type": "pong", "id": "p1"}


def test_a_bad_token_request_is_refused_with_the_api_error_shape(stack):
    response = requests.post(f"{stack.http_url}/local/token", json={"userId": ""}, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_body"


def test_the_openapi_document_has_none_of_the_local_paths(stack):
    paths = requests.get(f"{stack.http_url}/openapi.json", timeout=10).json()["paths"]
    assert paths, "the document lists the product's routes"
    assert not [p for p in paths if p.startswith(("/local", "/play"))]
