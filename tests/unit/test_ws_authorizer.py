"""The WebSocket $connect authorizer decides as API Gateway needs: Allow with the player's identity
for a genuine token, Deny for any other, "Unauthorized" for none. Keys are made here; the JWKS
fetch is answered in memory (no network)."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from functions.auth import ws_authorizer
from functions.auth.exceptions import AuthorizerMisconfigured
from tests.support.jwt_keys import (
    CLIENT_ID,
    ISSUER,
    METHOD_ARN,
    SigningKey,
    access_token_claims,
    authorizer_event,
    id_token_claims,
    jwks,
)
from tests.support.lambda_events import FakeLambdaContext

DENY_ALL = {
    "principalId": "anonymous",
    "policyDocument": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Action": "execute-api:Invoke",
                "Effect": "Deny",
                "Resource": ["arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/*"],
            }
        ],
    },
}


class PublishedKeys:
    """The issuer's JWKS endpoint, answered from memory; counts how often it is fetched."""

    def __init__(self, *keys: SigningKey):
        self.document = jwks(*keys)
        self.fetches = 0


@pytest.fixture
def issuer_key() -> SigningKey:
    return SigningKey("key-2026-01")


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch, issuer_key: SigningKey) -> PublishedKeys:
    keys = PublishedKeys(issuer_key)

    def fetch_data(client: jwt.PyJWKClient) -> Any:
        assert (
            client.uri
            == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TestPool/.well-known/jwks.json"
        )
        keys.fetches += 1
        return keys.document

    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", fetch_data)
    monkeypatch.setenv("JWT_ISSUER", ISSUER)
    monkeypatch.setenv("JWT_AUDIENCES", f"someotherclient,{CLIENT_ID}")
    monkeypatch.setenv("JWT_JWKS_URL", f"{ISSUER}/.well-known/jwks.json")
    ws_authorizer.verifier.cache_clear()
    yield keys
    ws_authorizer.verifier.cache_clear()


def authorize(token: str | None) -> dict[str, Any]:
    return ws_authorizer.handler(authorizer_event(token), FakeLambdaContext())


def test_a_valid_id_token_is_allowed_on_connect_with_the_player_as_context(published, issuer_key):
    answer = authorize(issuer_key.sign(id_token_claims("alice-sub", picture="https://cdn.example/a.png")))
    assert answer == {
        "principalId": "alice-sub",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [METHOD_ARN]}],
        },
        "context": {
            "userId": "alice-sub",
            "screenName": "Alice Liddell",
            "avatar": "https://cdn.example/a.png",
        },
    }


def test_a_valid_access_token_is_allowed_by_its_client_id(published, issuer_key):
    answer = authorize(issuer_key.sign(access_token_claims("bob-sub")))
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    # Access tokens carry no name: the Cognito username stands in.
    assert answer["context"] == {"userId": "bob-sub", "screenName": "alice"}


def test_the_keys_are_fetched_once_for_many_invocations(published, issuer_key):
    for user in ("a", "b", "c"):
        assert authorize(issuer_key.sign(id_token_claims(user)))["principalId"] == user
    assert published.fetches == 1


@pytest.mark.parametrize(
    "make_claims",
    [
        pytest.param(lambda: id_token_claims(exp=int(time.time()) - 120), id="expired"),
        pytest.param(
            lambda: id_token_claims(iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"),
            id="wrong-issuer",
        ),
        pytest.param(lambda: id_token_claims(aud="someone-elses-client"), id="wrong-audience"),
        pytest.param(
            lambda: access_token_claims(client_id="someone-elses-client"), id="access-token-wrong-client"
        ),
        pytest.param(lambda: id_token_claims(token_use=None), id="no-token-use"),
        pytest.param(lambda: id_token_claims(token_use="refresh"), id="wrong-token-use"),
        pytest.param(lambda: id_token_claims(sub=None), id="no-subject"),
        pytest.param(lambda: id_token_claims(sub="  "), id="blank-subject"),
        pytest.param(lambda: id_token_claims(nbf=int(time.time()) + 600), id="not-yet-valid"),
    ],
)
def test_a_token_with_wrong_claims_is_denied(published, issuer_key, make_claims):
    # Claims made when the test runs, not at collection: "600 s from now" must stay in the future
    # however long the tiers before this one take.
    assert authorize(issuer_key.sign(make_claims())) == DENY_ALL


def test_a_token_signed_by_another_key_under_the_issuers_kid_is_denied(published, issuer_key):
    forger = SigningKey(issuer_key.kid)
    assert authorize(forger.sign(id_token_claims())) == DENY_ALL


def test_a_token_naming_a_key_the_issuer_never_published_is_denied(published):
    assert authorize(SigningKey("unpublished").sign(id_token_claims())) == DENY_ALL


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(
            jwt.encode(id_token_claims(), key=None, algorithm="none", headers={"kid": "key-2026-01"}),
            id="alg-none",
        ),
        pytest.param(
            jwt.encode(
                id_token_claims(),
                "a-shared-secret-that-is-32-bytes!",
                algorithm="HS256",
                headers={"kid": "key-2026-01"},
            ),
            id="hs256",
        ),
        pytest.param("not.a.jwt", id="malformed"),
    ],
)
def test_an_unsigned_or_malformed_token_is_denied(published, token):
    assert authorize(token) == DENY_ALL


@pytest.mark.parametrize("token", [None, ""])
def test_no_token_fails_with_unauthorized_which_api_gateway_answers_401(published, token):
    with pytest.raises(ws_authorizer.Unauthorized) as failure:
        authorize(token)
    # API Gateway matches the error message exactly.
    assert str(failure.value) == "Unauthorized"
    assert published.fetches == 0


def test_an_authorizer_deployed_without_its_settings_fails_instead_of_guessing(
    published, issuer_key, monkeypatch
):
    monkeypatch.delenv("JWT_AUDIENCES")
    ws_authorizer.verifier.cache_clear()
    with pytest.raises(AuthorizerMisconfigured):
        authorize(issuer_key.sign(id_token_claims()))
