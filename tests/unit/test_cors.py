"""API Gateway HTTP API's CORS headers (arcadeflow/apigateway/cors.py), against the developer
guide "Configure CORS for HTTP APIs in API Gateway" and the API reference's Cors object. Where the
guide is silent the test says so and asserts our choice, named as ours."""

from __future__ import annotations

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response

from arcadeflow.apigateway.cors import (
    CorsConfiguration,
    apply_to_response,
    is_preflight,
    preflight_response,
)

GAME = "http://localhost:5173"
CONFIG = CorsConfiguration(
    allow_origins=(GAME, "https://play.example.com"),
    allow_methods=("GET", "POST"),
    allow_headers=("authorization", "content-type"),
    expose_headers=("x-request-id",),
    max_age=300,
)


def _preflight_headers(origin: str = GAME, method: str = "POST", headers: str = "authorization") -> Headers:
    return Headers(
        {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}
    )


def _cors_headers(response: Response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def test_registry_configuration_is_read_as_the_wire_stores_it() -> None:
    """API reference, CreateApi: corsConfiguration {allowOrigins, allowMethods, allowHeaders,
    exposeHeaders, maxAge, allowCredentials}; moto keeps that dict as sent."""
    stored = {
        "allowOrigins": [GAME],
        "allowMethods": ["GET"],
        "allowHeaders": ["authorization"],
        "exposeHeaders": ["date"],
        "maxAge": 600,
        "allowCredentials": True,
    }
    assert CorsConfiguration.from_registry(stored) == CorsConfiguration(
        allow_origins=(GAME,),
        allow_methods=("GET",),
        allow_headers=("authorization",),
        expose_headers=("date",),
        max_age=600,
        allow_credentials=True,
    )
    assert CorsConfiguration.from_registry(None) is None
    assert CorsConfiguration.from_registry({}) is None


def test_a_preflight_needs_options_origin_and_request_method() -> None:
    """Developer guide: "For the OPTIONS method, your request must contain an origin header and
    an Access-Control-Request-Method header"."""
    assert is_preflight("OPTIONS", _preflight_headers())
    assert not is_preflight("OPTIONS", Headers({"Origin": GAME}))
    assert not is_preflight("OPTIONS", Headers({"Access-Control-Request-Method": "POST"}))
    assert not is_preflight("POST", _preflight_headers())


def test_preflight_from_an_allowed_origin_gets_the_configured_lists() -> None:
    """Developer guide: the configured allowOrigins, allowMethods, allowHeaders and maxAge are the
    Access-Control-Allow-* and Max-Age headers of the preflight's answer. The 204 with no body is
    our choice (the guide names no status)."""
    response = preflight_response(CONFIG, _preflight_headers())
    assert response.status_code == 204
    assert response.get_data() == b""
    assert _cors_headers(response) == {
        "access-control-allow-origin": GAME,
        "access-control-allow-methods": "GET,POST",
        "access-control-allow-headers": "authorization,content-type",
        "access-control-max-age": "300",
    }
    # Expose-Headers belongs on actual responses (Fetch standard), not on the preflight.
    assert "access-control-expose-headers" not in _cors_headers(response)


def test_preflight_from_an_origin_not_allowed_gets_no_cors_headers() -> None:
    """The guide says headers are returned for the configured origins; what answers any other is
    not said. Our choice: a 204 without a single Access-Control-* header, so the browser blocks."""
    response = preflight_response(CONFIG, _preflight_headers(origin="http://evil.example"))
    assert response.status_code == 204
    assert _cors_headers(response) == {}


def test_wildcard_origin_answers_star_and_does_not_vary() -> None:
    """Developer guide: allowOrigins may be `*`. Answering the literal `*` (not the origin) is our
    reading of it; a `*` answer is the same for every origin, so no `Vary: Origin`."""
    config = CorsConfiguration(allow_origins=("*",), allow_methods=("*",), allow_headers=("*",))
    response = preflight_response(config, _preflight_headers(origin="http://anywhere.test"))
    assert _cors_headers(response) == {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "*",
        "access-control-allow-headers": "*",
    }
    assert "Vary" not in response.headers


def test_an_echoed_origin_varies_on_origin() -> None:
    """The guide is silent on Vary. Our choice, the Fetch standard's ("CORS protocol and HTTP
    caches"): an answer that echoes the origin lists Origin in Vary, beside what was there."""
    response = Response("{}", headers={"Vary": "Accept-Encoding"})
    apply_to_response(CONFIG, Headers({"Origin": GAME}), response)
    assert response.headers["Vary"] == "Accept-Encoding, Origin"
    assert preflight_response(CONFIG, _preflight_headers()).headers["Vary"] == "Origin"


def test_origins_compare_without_case_and_the_request_spelling_is_echoed() -> None:
    """Silent in the guide. Our choice: scheme and host are case-insensitive (RFC 6454), and the
    browser compares Allow-Origin with its own serialisation, so that is what is echoed."""
    config = CorsConfiguration(allow_origins=("HTTP://LocalHost:5173",))
    assert config.allowed_origin(GAME) == GAME
    assert config.allowed_origin("http://localhost:5174") is None
    assert config.allowed_origin(None) is None


def test_credentials_are_allowed_only_when_configured() -> None:
    """Developer guide: allowCredentials -> Access-Control-Allow-Credentials: true."""
    with_credentials = CorsConfiguration(allow_origins=(GAME,), allow_credentials=True)
    assert (
        _cors_headers(preflight_response(with_credentials, _preflight_headers()))[
            "access-control-allow-credentials"
        ]
        == "true"
    )
    assert "access-control-allow-credentials" not in _cors_headers(
        preflight_response(CONFIG, _preflight_headers())
    )


def test_actual_response_gets_origin_and_expose_headers() -> None:
    """Developer guide: "For a CORS request, API Gateway adds the configured CORS headers to the
    response from an integration"."""
    response = apply_to_response(CONFIG, Headers({"Origin": GAME}), Response("{}", status=201))
    assert response.status_code == 201
    assert _cors_headers(response) == {
        "access-control-allow-origin": GAME,
        "access-control-expose-headers": "x-request-id",
    }


def test_the_integrations_own_cors_headers_are_ignored() -> None:
    """Developer guide: "If you configure CORS for an API, API Gateway ignores CORS headers
    returned from your backend integration"."""
    backend = Response(
        "{}", headers={"Access-Control-Allow-Origin": "*", "access-control-allow-methods": "PUT"}
    )
    response = apply_to_response(CONFIG, Headers({"Origin": GAME}), backend)
    assert _cors_headers(response) == {
        "access-control-allow-origin": GAME,
        "access-control-expose-headers": "x-request-id",
    }
    # From an origin not allowed, none of the backend's survives either.
    backend = Response("{}", headers={"Access-Control-Allow-Origin": "*"})
    assert _cors_headers(apply_to_response(CONFIG, Headers({"Origin": "http://evil.example"}), backend)) == {}


def test_no_origin_no_cors_headers() -> None:
    """Developer guide: "To return CORS headers, your request must contain an origin header"."""
    response = apply_to_response(CONFIG, Headers(), Response("{}"))
    assert _cors_headers(response) == {}
    assert "Vary" not in response.headers
