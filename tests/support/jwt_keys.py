"""RSA signing keys and Cognito-shaped tokens made in the test, and a JWKS to publish them."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TestPool"
CLIENT_ID = "7gameclient0example"
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/$connect"


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def jwk(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        jwk.update(kid=self.kid, alg="RS256", use="sig")
        return jwk

    def sign(self, claims: dict[str, Any], kid: str | None = None) -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": kid or self.kid})


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [k.jwk() for k in keys]}


def id_token_claims(user_id: str = "alice-sub", **overrides: Any) -> dict[str, Any]:
    """What a Cognito id token carries (`aud` is the app client)."""
    now = int(time.time())
    claims = {
        "sub": user_id,
        "name": "Alice Liddell",
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "token_use": "id",
        "iat": now,
        "auth_time": now,
        "exp": now + 3600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def access_token_claims(user_id: str = "alice-sub", **overrides: Any) -> dict[str, Any]:
    """What a Cognito access token carries (`client_id`, no `aud`, `username` not `name`)."""
    now = int(time.time())
    claims = {
        "sub": user_id,
        "username": "alice",
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "iat": now,
        "exp": now + 3600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def authorizer_event(token: str | None, method_arn: str = METHOD_ARN) -> dict[str, Any]:
    """The REQUEST event API Gateway hands a WebSocket $connect authorizer."""
    query = {} if token is None else {"token": token}
    return {
        "type": "REQUEST",
        "methodArn": method_arn,
        "headers": {"Host": "abcdef1234.execute-api.eu-west-1.amazonaws.com", "Sec-WebSocket-Version": "13"},
        "multiValueHeaders": {"Host": ["abcdef1234.execute-api.eu-west-1.amazonaws.com"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "stageVariables": {},
        "requestContext": {
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "extendedRequestId": "abc=",
            "requestTime": "01/Jan/2026:00:00:00 +0000",
            "messageDirection": "IN",
            "stage": "prod",
            "connectedAt": 1767225600000,
            "requestTimeEpoch": 1767225600000,
            "identity": {"sourceIp": "203.0.113.9", "userAgent": "game/1.0"},
            "requestId": "abc=",
            "domainName": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
            "connectionId": "Xyz12345abc=",
            "apiId": "abcdef1234",
        },
    }
