"""How the WebSocket emulator reads a Lambda authorizer's answer, as API Gateway does: an explicit
Deny wins, an Allow must cover the $connect methodArn, the context reaches routes as strings."""

from __future__ import annotations

import http

import pytest

from arcadeflow.apigateway.websocket_api import MalformedAuthorizerResponse, authorizer_decision

ARN = "arn:aws:execute-api:us-east-1:123456789012:arcadeflowws/local/$connect"


def answer(*statements: dict, context: dict | None = None, principal: str = "alice") -> dict:
    out: dict = {
        "principalId": principal,
        "policyDocument": {"Version": "2012-10-17", "Statement": list(statements)},
    }
    if context is not None:
        out["context"] = context
    return out


def allow(resource, action="execute-api:Invoke") -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def deny(resource) -> dict:
    return {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": resource}


@pytest.mark.parametrize(
    "resource",
    [ARN, [ARN], "arn:aws:execute-api:us-east-1:123456789012:arcadeflowws/local/*", "arn:aws:execute-api:*"],
)
def test_an_allow_covering_the_method_arn_admits_with_principal_and_context(resource):
    status, context = authorizer_decision(answer(allow(resource), context={"userId": "alice"}), ARN)
    assert status == http.HTTPStatus.OK
    assert context == {"principalId": "alice", "userId": "alice"}


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param(answer(allow(ARN), deny("arn:aws:execute-api:*")), id="deny-wins"),
        pytest.param(
            answer(allow("arn:aws:execute-api:us-east-1:123456789012:otherapi/local/$connect")),
            id="other-api",
        ),
        pytest.param(answer(allow(ARN, action="execute-api:ManageConnections")), id="other-action"),
        pytest.param(answer(), id="no-statement"),
    ],
)
def test_no_covering_allow_or_an_explicit_deny_is_403(policy):
    assert authorizer_decision(policy, ARN) == (http.HTTPStatus.FORBIDDEN, {})


def test_context_numbers_and_booleans_reach_routes_as_strings():
    _, context = authorizer_decision(answer(allow(ARN), context={"level": 7, "ratio": 0.5, "vip": True}), ARN)
    assert context == {"principalId": "alice", "level": "7", "ratio": "0.5", "vip": "true"}


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"policyDocument": {"Statement": []}}, id="no-principal"),
        pytest.param({"principalId": "alice"}, id="no-policy"),
        pytest.param(answer(allow(ARN), context={"roles": ["admin"]}), id="nested-context"),
        pytest.param(["not", "an", "object"], id="not-an-object"),
    ],
)
def test_an_answer_api_gateway_would_reject_is_reported_not_trusted(bad):
    with pytest.raises(MalformedAuthorizerResponse):
        authorizer_decision(bad, ARN)
