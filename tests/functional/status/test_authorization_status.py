"""A status is posted as the caller only: the token, never the body, says whose story it joins
and whose followers it fans out to."""

from __future__ import annotations

import importlib
import json

import boto3
import pytest

from tests.functional.answers import check_answer
from tests.functional.status.test_status_handlers import world  # noqa: F401 - the fixture
from tests.support.lambda_events import FakeLambdaContext, http_event


def _post(user: str, body: dict) -> tuple[int, dict]:
    handler = importlib.import_module("functions.status.statuses_api").handler
    response = handler(http_event("POST", "/statuses", user=user, body=body), FakeLambdaContext())
    status, answer = response["statusCode"], json.loads(response["body"])
    check_answer("POST", "/statuses", status, answer)
    return status, answer


@pytest.mark.authorization("POST /statuses")
def test_a_status_is_the_callers_and_a_body_naming_another_author_is_refused(world):  # noqa: F811
    for impersonation in ({"userId": "alice"}, {"author": {"userId": "alice"}}, {"userAlias": "alice"}):
        status, answer = _post("mallory", {"post": "I am alice", **impersonation})
        assert (status, answer["error"]["code"]) == (400, "invalid_body"), impersonation
    ddb, sfn = boto3.client("dynamodb"), boto3.client("stepfunctions")
    assert ddb.scan(TableName=world["tables"]["story"])["Items"] == []
    assert sfn.list_executions(stateMachineArn=world["machine"])["executions"] == []
    status, answer = _post("mallory", {"post": "I am mallory"})
    assert status == 202
    (item,) = ddb.scan(TableName=world["tables"]["story"])["Items"]
    assert item["userAlias"] == {"S": "mallory"}  # mallory's story, nobody else's
    assert "alice" not in json.dumps(item)


@pytest.mark.authorization("POST /statuses")
def test_another_authors_idempotency_key_names_their_post_not_mine(world):  # noqa: F811
    handler = importlib.import_module("functions.status.statuses_api").handler

    def post_with_key(user: str, text: str) -> tuple[int, dict]:
        event = http_event("POST", "/statuses", user=user, body={"post": text})
        event["headers"]["idempotency-key"] = "shared-key"
        response = handler(event, FakeLambdaContext())
        return response["statusCode"], json.loads(response["body"])

    # Mallory uses the key first; Alice's post under the same key is still Alice's own new post.
    assert post_with_key("mallory", "first")[0] == 202
    status, answer = post_with_key("alice", "mine")
    assert status == 202, answer
    owners = sorted(
        i["userAlias"]["S"]
        for i in boto3.client("dynamodb").scan(TableName=world["tables"]["story"])["Items"]
    )
    assert owners == ["alice", "mallory"]
