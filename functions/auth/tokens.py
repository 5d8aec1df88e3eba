"""Verifies the JWTs players sign in with: signature, issuer, audience, expiry, token use.

On AWS the tokens come from the Cognito user pool and its keys from the pool's JWKS
(`https://cognito-idp.<region>.amazonaws.com/<pool id>/.well-known/jwks.json`). Locally the
embedded stack signs tokens with its own key and serves that key as a JWKS on the HTTP API
port. Either way the verifier fetches a JWKS over HTTP: only the three settings differ.

Settings (set by Terraform and by the embedded deployer alike, from the same description):
  JWT_ISSUER      the `iss` every token must carry
  JWT_AUDIENCES   comma-separated app client ids: an id token's `aud`, an access token's `client_id`
  JWT_JWKS_URL    where the issuer publishes its signing keys
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import jwt

from functions.auth.exceptions import AuthorizerMisconfigured, InvalidToken, SigningKeysUnavailable

# Cognito signs with RS256 only; accepting no other algorithm rules out "none" and HS256 confusion.
ALGORITHMS = ("RS256",)
# Cognito's id tokens carry the app client in `aud`, its access tokens in `client_id` (no `aud`).
TOKEN_USES = frozenset({"id", "access"})
# Clock skew tolerated on exp/iat/nbf between the issuer and Lambda.
LEEWAY_SECONDS = 30
# How long a fetched key set is trusted before it is fetched again. A token with an unknown kid
# (a rotated key) refreshes it sooner, but at most once per cooldown, so forged kids cannot make
# every invocation call the issuer.
JWKS_LIFESPAN_SECONDS = 3600
JWKS_REFRESH_COOLDOWN_SECONDS = 30
JWKS_TIMEOUT_SECONDS = 5


class SigningKeys(Protocol):
    def key_for(self, token: str) -> Any:
        """The public key that should have signed this token (by its `kid`)."""
        ...


class JwksSigningKeys:
    """Keys from a JWKS URL, fetched once and kept for the life of the Lambda environment."""

    def __init__(self, url: str, refresh_cooldown_seconds: float = JWKS_REFRESH_COOLDOWN_SECONDS):
        self.url = url
        self._client = jwt.PyJWKClient(
            url,
            cache_keys=True,
            lifespan=JWKS_LIFESPAN_SECONDS,
            timeout=JWKS_TIMEOUT_SECONDS,
            cooldown_duration=refresh_cooldown_seconds,
        )

    def key_for(self, token: str) -> Any:
        try:
            return self._client.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError as exc:
            raise SigningKeysUnavailable(f"cannot fetch {self.url}: {exc}") from exc
        except jwt.PyJWTError as exc:
            # Not a JWT, no kid, or a kid the issuer never published.
            raise InvalidToken(str(exc)) from exc


@dataclass(frozen=True)
class TokenRules:
    issuer: str
    audiences: frozenset[str]

    @staticmethod
    def from_environment(environ: Mapping[str, str] = os.environ) -> TokenRules:
        issuer = environ.get("JWT_ISSUER", "")
        audiences = frozenset(a.strip() for a in environ.get("JWT_AUDIENCES", "").split(",") if a.strip())
        if not issuer or not audiences:
            raise AuthorizerMisconfigured("JWT_ISSUER and JWT_AUDIENCES must both be set")
        return TokenRules(issuer, audiences)


def verify(token: str, rules: TokenRules, keys: SigningKeys) -> dict[str, Any]:
    """The token's claims if it is genuine, current and meant for this app; else InvalidToken."""
    key = keys.key_for(token)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=list(ALGORITHMS),
            issuer=rules.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["sub", "exp", "iss", "token_use"], "verify_aud": False},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    token_use = claims["token_use"]
    if token_use not in TOKEN_USES:
        raise InvalidToken(f"token_use {token_use!r} is neither id nor access")
    # Checked by hand because the claim that names the app differs by token use.
    app = claims.get("aud") if token_use == "id" else claims.get("client_id")
    apps = set(app) if isinstance(app, list) else {app}
    if not apps & rules.audiences:
        claim = "aud" if token_use == "id" else "client_id"
        raise InvalidToken(f"{claim} {app!r} is not an accepted app client")
    return claims


class TokenVerifier:
    """Rules and keys from the environment, built once per Lambda environment so the key set
    stays cached across invocations."""

    def __init__(self, rules: TokenRules, keys: SigningKeys):
        self.rules = rules
        self.keys = keys

    @staticmethod
    def from_environment(environ: Mapping[str, str] = os.environ) -> TokenVerifier:
        url = environ.get("JWT_JWKS_URL", "")
        if not url:
            raise AuthorizerMisconfigured("JWT_JWKS_URL is not set")
        return TokenVerifier(TokenRules.from_environment(environ), JwksSigningKeys(url))

    def verify(self, token: str) -> dict[str, Any]:
        return verify(token, self.rules, self.keys)
