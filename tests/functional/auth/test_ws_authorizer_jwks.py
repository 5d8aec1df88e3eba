"""The $connect authorizer fetching the issuer's keys over HTTP, as on AWS (Cognito's JWKS) and
locally (the embedded stack's): a JWKS served on 127.0.0.1 by a real HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from functions.auth import ws_authorizer
from functions.auth.exceptions import InvalidToken, SigningKeysUnavailable
from functions.auth.tokens import JwksSigningKeys, TokenRules, TokenVerifier
from tests.support.jwt_keys import (
    CLIENT_ID,
    ISSUER,
    SigningKey,
    authorizer_event,
    id_token_claims,
    jwks,
)
from tests.support.lambda_events import FakeLambdaContext


class JwksServer:
    """An issuer's /.well-known/jwks.json on 127.0.0.1; what it publishes can change (rotation)."""

    def __init__(self, *keys: SigningKey):
        self.document: dict[str, Any] = jwks(*keys)
        self.fetches = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if self.path != "/.well-known/jwks.json":
                    self.send_error(404)
                    return
                server.fetches += 1
                body = json.dumps(server.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def key() -> SigningKey:
    return SigningKey("pool-key-1")


@pytest.fixture
def server(key: SigningKey) -> Iterator[JwksServer]:
    running = JwksServer(key)
    yield running
    running.stop()


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch, server: JwksServer) -> Iterator[JwksServer]:
    """The authorizer configured as the deployers configure it: three environment variables."""
    monkeypatch.setenv("JWT_ISSUER", ISSUER)
    monkeypatch.setenv("JWT_AUDIENCES", CLIENT_ID)
    monkeypatch.setenv("JWT_JWKS_URL", server.url)
    ws_authorizer.verifier.cache_clear()
    yield server
    ws_authorizer.verifier.cache_clear()


def effect(answer: dict[str, Any]) -> str:
    return answer["policyDocument"]["Statement"][0]["Effect"]


def test_the_handler_verifies_against_the_served_jwks_and_keeps_it_across_invocations(deployed, key):
    for user in ("ann", "ben", "cy"):
        answer = ws_authorizer.handler(authorizer_event(key.sign(id_token_claims(user))), FakeLambdaContext())
        assert effect(answer) == "Allow" and answer["context"]["userId"] == user
    forged = SigningKey(key.kid).sign(id_token_claims("mallory"))
    assert effect(ws_authorizer.handler(authorizer_event(forged), FakeLambdaContext())) == "Deny"
    assert deployed.fetches == 1


def test_an_unreachable_jwks_fails_the_invocation_rather_than_denying(deployed, key):
    # API Gateway answers 500 to a failed authorizer: a valid player is not told "Forbidden".
    deployed.stop()
    with pytest.raises(SigningKeysUnavailable):
        ws_authorizer.handler(authorizer_event(key.sign(id_token_claims())), FakeLambdaContext())


def test_a_rotated_key_is_fetched_when_a_token_names_it(server, key):
    verifier = TokenVerifier(
        TokenRules(ISSUER, frozenset({CLIENT_ID})), JwksSigningKeys(server.url, refresh_cooldown_seconds=0)
    )
    assert verifier.verify(key.sign(id_token_claims("before")))["sub"] == "before"
    rotated = SigningKey("pool-key-2")
    server.document = jwks(key, rotated)
    assert verifier.verify(rotated.sign(id_token_claims("after")))["sub"] == "after"
    assert server.fetches == 2


def test_unknown_kids_refetch_at_most_once_per_cooldown(server, key):
    verifier = TokenVerifier(TokenRules(ISSUER, frozenset({CLIENT_ID})), JwksSigningKeys(server.url))
    verifier.verify(key.sign(id_token_claims()))
    for n in range(5):
        with pytest.raises(InvalidToken, match="Unable to find a signing key"):
            verifier.verify(SigningKey(f"made-up-{n}").sign(id_token_claims()))
    assert server.fetches == 1
