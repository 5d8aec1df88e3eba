"""API Gateway HTTP API's CORS headers (arcadeflow/apigateway/cors.py), against the developer
guide "Configure CORS for HTTP APIs in API Gateway" and the API reference's Cors object. Where the
guide is silent the test says so and asserts our choice, named as ours."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import ValidationError
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response

from arcadeflow.apigateway.cors import (
    CorsConfiguration,
    apply_to_response,
    is_preflight,
    preflight_response,
)
from arcadeflow.deployment import HttpCors, load

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
    assert response.get_data() == b""


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


def test_every_answer_of_an_api_with_listed_origins_varies_on_origin() -> None:
    """Our choice (the guide is silent), the Fetch standard's: the answer without an origin, or to
    an origin not allowed, differs from an allowed origin's, so a cache must key on Origin too."""
    assert apply_to_response(CONFIG, Headers(), Response("{}")).headers["Vary"] == "Origin"
    other = Headers({"Origin": "http://evil.example"})
    assert apply_to_response(CONFIG, other, Response("{}")).headers["Vary"] == "Origin"
    assert (
        preflight_response(CONFIG, _preflight_headers(origin="http://evil.example")).headers["Vary"]
        == "Origin"
    )
    # A backend's own Vary: Origin is kept once, not doubled.
    backend = Response("{}", headers={"Vary": "origin"})
    assert apply_to_response(CONFIG, Headers({"Origin": GAME}), backend).headers.getlist("Vary") == ["origin"]


# --- where the configuration comes from: `arcadeflow up --cors-origin`, the description ---------


def _up_origins(*argv: str) -> list[str] | None:
    from arcadeflow.cli import _cors_origins, build_parser

    return _cors_origins(build_parser().parse_args(["up", *argv]).cors_origins)


def test_up_allows_the_local_pages_origin_unless_told_otherwise() -> None:
    """None: the stack fills in http://127.0.0.1:<http port> once the port is bound."""
    assert _up_origins() is None
    assert _up_origins("--cors-origin", GAME, "--cors-origin", "*") == [GAME, "*"]
    assert _up_origins("--cors-origin", "none") == []


@pytest.mark.parametrize("refused", ["localhost:5173", "http://localhost:5173/", "http://x/app", "ftp://x"])
def test_up_refuses_what_a_browser_never_sends_as_an_origin(refused: str, capsys) -> None:
    """A browser's Origin is scheme://host[:port]: a path or a trailing / would never match, so
    such a flag is a mistake said at once rather than a silent block in the browser."""
    from arcadeflow.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["up", "--cors-origin", refused])
    assert "expected an origin" in capsys.readouterr().err


def test_none_with_other_origins_is_refused() -> None:
    from arcadeflow.commands import CommandError

    with pytest.raises(CommandError, match="give it alone"):
        _up_origins("--cors-origin", "none", "--cors-origin", GAME)


def test_the_stack_defaults_to_the_local_pages_origin(tmp_path) -> None:
    from arcadeflow.stack import EmbeddedStack, StackOptions

    stack = EmbeddedStack(StackOptions(state_dir=tmp_path, persist=False))
    stack.http_api = SimpleNamespace(url="http://127.0.0.1:8123")  # bound: the pages' origin is known
    assert stack.cors_origins() == ["http://127.0.0.1:8123"]
    stack.options.cors_origins = []
    assert stack.cors_origins() == []


def test_the_description_resolves_the_routes_methods_and_its_headers() -> None:
    """What Terraform's cors_configuration and the deployer's CreateApi both read."""
    cors = load().resolved().http_api.cors
    assert cors.allow_methods == sorted({key.split(" ", 1)[0] for key in load().http_api.routes})
    assert cors.allow_headers == ["authorization", "content-type"]
    assert cors.cors_configuration([]) == {}
    assert cors.cors_configuration([GAME])["AllowOrigins"] == [GAME]


def test_a_max_age_beyond_api_gateways_bounds_is_refused() -> None:
    """API reference, Cors: MaxAge is -1 to 86400."""
    with pytest.raises(ValidationError):
        HttpCors(maxAgeSeconds=86401)
    with pytest.raises(ValidationError):
        HttpCors(maxAgeSeconds=-2)
    assert HttpCors(maxAgeSeconds=-1).max_age_seconds == -1
