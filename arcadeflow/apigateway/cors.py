"""API Gateway HTTP API's CORS, read from the API's CorsConfiguration in the registry.

The configuration is what CreateApi/UpdateApi stored (the deployer's or Terraform's
`cors_configuration`), so the emulator answers a browser as the API that `terraform apply` makes
would. What the developer guide ("Configure CORS for HTTP APIs in API Gateway") says, and this
does:

- A preflight, an OPTIONS request with both `Origin` and `Access-Control-Request-Method`, is
  answered by API Gateway itself "even if there isn't an OPTIONS route": no route, no authorizer,
  no integration runs.
- Every other response to a request with an `Origin` gets the configured CORS headers, and the
  integration's own `Access-Control-*` headers are ignored (here: removed).
- A request without `Origin` gets no CORS headers.

Where the guide is silent, our choices (each named so in tests/unit/test_cors.py and the README):

- a preflight answers 204 with an empty body;
- an origin not in AllowOrigins gets no `Access-Control-*` header at all (the browser blocks); a
  preflight asking for a method or header the configuration does not allow is still answered
  with the configured lists, and the browser refuses on them;
- origins compare case-insensitively and the request's own spelling is echoed; `*` alone in
  AllowOrigins answers `*`; header names compare case-insensitively (HTTP's rule);
- `Vary: Origin` is on every answer of an API whose AllowOrigins is not `*` (whatever the
  request's origin, none included), as the Fetch standard asks of a server whose answer depends
  on the origin: a cache never serves one origin's answer, or a no-origin one, to another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response

PREFLIGHT_STATUS = 204
ANY = "*"


@dataclass(frozen=True)
class CorsConfiguration:
    """API Gateway v2's Cors object (API reference, "Cors")."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    @classmethod
    def from_registry(cls, stored: Mapping[str, Any] | None) -> CorsConfiguration | None:
        """moto keeps CreateApi's corsConfiguration as the wire sent it (camelCase keys); an
        OpenAPI import's x-amazon-apigateway-cors has the same keys."""
        if not stored:
            return None

        def names(key: str) -> tuple[str, ...]:
            return tuple(str(v) for v in stored.get(key) or ())

        max_age = stored.get("maxAge")
        return cls(
            allow_origins=names("allowOrigins"),
            allow_methods=names("allowMethods"),
            allow_headers=names("allowHeaders"),
            expose_headers=names("exposeHeaders"),
            max_age=None if max_age is None else int(max_age),
            allow_credentials=bool(stored.get("allowCredentials")),
        )

    @property
    def answer_depends_on_origin(self) -> bool:
        """True unless every origin gets the same `*`."""
        return ANY not in self.allow_origins

    def allowed_origin(self, origin: str | None) -> str | None:
        """The Access-Control-Allow-Origin value for a request from this origin, or None."""
        if not origin:
            return None
        if ANY in self.allow_origins:
            return ANY
        wanted = origin.lower()
        return origin if any(o.lower() == wanted for o in self.allow_origins) else None


def is_preflight(method: str, headers: Headers) -> bool:
    return (
        method == "OPTIONS"
        and bool(headers.get("Origin"))
        and bool(headers.get("Access-Control-Request-Method"))
    )


def _joined(values: Iterable[str]) -> str:
    return ",".join(values)


def _origin_headers(config: CorsConfiguration, allowed: str) -> dict[str, str]:
    headers = {"Access-Control-Allow-Origin": allowed}
    if config.allow_credentials:
        headers["Access-Control-Allow-Credentials"] = "true"
    return headers


def _add_vary_origin(response: Response) -> None:
    listed = [v.strip() for value in response.headers.getlist("Vary") for v in value.split(",") if v.strip()]
    if not any(v.lower() in ("origin", "*") for v in listed):
        response.headers["Vary"] = ", ".join([*listed, "Origin"])


def _add_origin_headers(config: CorsConfiguration, request_headers: Headers, response: Response) -> bool:
    """Vary and the allowed origin's headers, on a preflight's answer and on any other alike;
    False when the request's origin is not allowed (then it gets no CORS header at all)."""
    if config.answer_depends_on_origin:
        _add_vary_origin(response)
    allowed = config.allowed_origin(request_headers.get("Origin"))
    if allowed is None:
        return False
    for name, value in _origin_headers(config, allowed).items():
        response.headers[name] = value
    return True


def preflight_response(config: CorsConfiguration, headers: Headers) -> Response:
    """API Gateway's own answer to a preflight."""
    response = Response(b"", status=PREFLIGHT_STATUS)
    response.headers.pop("Content-Type", None)
    if not _add_origin_headers(config, headers, response):
        return response
    if config.allow_methods:
        response.headers["Access-Control-Allow-Methods"] = _joined(config.allow_methods)
    if config.allow_headers:
        response.headers["Access-Control-Allow-Headers"] = _joined(config.allow_headers)
    if config.max_age is not None:
        response.headers["Access-Control-Max-Age"] = str(config.max_age)
    return response


def apply_to_response(config: CorsConfiguration, request_headers: Headers, response: Response) -> Response:
    """The headers API Gateway puts on an actual (not preflight) response, whoever made it: the
    integration, the authorizer's 401, a 404 for no route, a 5xx. The integration's own CORS
    headers never reach the browser once the API has a configuration."""
    for name in {n for n, _ in response.headers.items() if n.lower().startswith("access-control-")}:
        del response.headers[name]
    if not _add_origin_headers(config, request_headers, response):
        return response
    if config.expose_headers:
        response.headers["Access-Control-Expose-Headers"] = _joined(config.expose_headers)
    return response
