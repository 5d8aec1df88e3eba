"""Local stand-in for Cognito: RS256 tokens signed by a key kept in the state directory.

On AWS the HTTP API's JWT authorizer checks Cognito's tokens; locally the API Gateway emulator
checks these with the same rules (signature, issuer, audience, expiry) and hands the handlers the
same claims: `sub` is the user id, `name` the screen name, `picture` the avatar. The public key is
also published as a JWKS (JWKS_PATH on the HTTP API port), from which the WebSocket API's $connect
authorizer Lambda verifies tokens exactly as it verifies Cognito's on AWS.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://arcadeflow.local/auth"
AUDIENCE = "arcadeflow"
KEY_FILE = "jwt-signing-key.pem"
KEY_ID = "local"
# Where the HTTP API port publishes the public key, as Cognito does under its issuer URL.
JWKS_PATH = "/.well-known/jwks.json"
DEFAULT_TOKEN_SECONDS = 24 * 3600


class TokenRefused(Exception):
    """Missing, malformed, wrongly signed or expired token: the HTTP emulator answers 401.

    The runtime's own (the emulated JWT authorizer); the product's authorizer Lambda has its own
    errors in functions/auth, and neither may import the other."""


class LocalIssuer:
    def __init__(self, state_dir: Path, issuer: str = ISSUER):
        # Another engine's JWT authorizer fetches keys under the issuer URL (arcadeflow/remote.py).
        self.issuer = issuer
        self.key_path = Path(state_dir) / KEY_FILE
        self._private_key = self._load_or_create()
        self._public_key = self._private_key.public_key()

    def _load_or_create(self) -> rsa.RSAPrivateKey:
        if self.key_path.exists():
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            return key
        self.key_path.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self.key_path.touch(mode=0o600)
        self.key_path.write_bytes(pem)
        return key

    def mint(
        self,
        user_id: str,
        screen_name: str,
        avatar: str | None = None,
        expires_in: int = DEFAULT_TOKEN_SECONDS,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": user_id,
            "name": screen_name,
            "iss": self.issuer,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + expires_in,
            "token_use": "id",
        }
        if avatar:
            claims["picture"] = avatar
        return jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": KEY_ID})

    def jwks(self) -> dict[str, Any]:
        """The public key as a JSON Web Key Set: what the WebSocket $connect authorizer fetches."""
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._public_key))
        jwk.update(kid=KEY_ID, alg="RS256", use="sig")
        return {"keys": [jwk]}

    def verify(self, token: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                self._public_key,
                algorithms=["RS256"],
                audience=AUDIENCE,
                issuer=self.issuer,
                options={"require": ["sub", "exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenRefused(str(exc)) from exc

    def verify_bearer(self, authorization: str | None) -> dict[str, Any]:
        if not authorization or not authorization.startswith("Bearer "):
            raise TokenRefused("no bearer token")
        return self.verify(authorization[len("Bearer ") :].strip())
