"""What the validation templates share: asking for a state machine and reading AWS's answer."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from tests.conformance.harness import Conformance
from tests.functional.branches.conftest import ROLE_ARN

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


def one_state(state: dict[str, Any], **machine: Any) -> dict[str, Any]:
    """A machine of one state named S (ending it unless the state says otherwise)."""
    if state.get("Type") not in ("Choice", "Succeed", "Fail") and "Next" not in state:
        state = {**state, "End": True}
    return {**machine, "StartAt": "S", "States": {"S": state}}


def create(aws: Conformance, definition: dict[str, Any] | str, **kwargs: Any) -> dict[str, Any]:
    """CreateStateMachine's answer, or {"error": code, "message": message} when it refuses."""
    text = definition if isinstance(definition, str) else json.dumps(definition)
    try:
        return aws.sfn.create_state_machine(
            name=kwargs.pop("name", None) or aws.unique("validation"),
            definition=text,
            roleArn=kwargs.pop("roleArn", ROLE_ARN),
            **kwargs,
        )
    except ClientError as exc:
        return {"error": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"]}


def update(aws: Conformance, arn: str, **kwargs: Any) -> dict[str, Any]:
    if isinstance(kwargs.get("definition"), dict):
        kwargs["definition"] = json.dumps(kwargs["definition"])
    try:
        return aws.sfn.update_state_machine(stateMachineArn=arn, **kwargs)
    except ClientError as exc:
        return {"error": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"]}


def validate(aws: Conformance, definition: dict[str, Any] | str, **kwargs: Any) -> dict[str, Any]:
    text = definition if isinstance(definition, str) else json.dumps(definition)
    answer = aws.sfn.validate_state_machine_definition(definition=text, **kwargs)
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def accepted(aws: Conformance, definition: dict[str, Any], machine_type: str = "STANDARD") -> None:
    """Accepted by ValidateStateMachineDefinition and by CreateStateMachine alike."""
    checked = validate(aws, definition, type=machine_type)
    assert checked["result"] == "OK", checked
    created = create(aws, definition, type=machine_type)
    assert "stateMachineArn" in created, created
