"""The conformance suite's harness: small ASL templates run on the embedded AWS (moto's
interpreter with arcadeflow's patches, in a process of its own) and read back as AWS answers.

A test states one behaviour AWS documents and the outcome AWS documents for it, citing the
page of the Step Functions developer guide or API reference; where AWS's documentation is silent
the test says so instead of guessing.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

from tests.functional.branches.conftest import ROLE_ARN, EmbeddedAwsProcess, Execution, poll
from tests.support.stack import REPO_ROOT

HANDLERS = "tests/conformance/handlers.py"
HANDLER = "tests.conformance.handlers.handler"


def code_zip(*files: str) -> bytes:
    """A deployment zip of project files (repo-relative), as Terraform's archive would hold them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in files:
            archive.writestr(name, (REPO_ROOT / name).read_bytes())
    return buffer.getvalue()


class Conformance:
    def __init__(self, aws: EmbeddedAwsProcess) -> None:
        self.aws = aws
        self.sfn = aws.client("stepfunctions")
        self.lambda_ = aws.client("lambda")
        self.dynamodb = aws.client("dynamodb")
        self.sqs = aws.client("sqs")
        # moto's Lambda refuses a function whose role does not exist.
        aws.client("iam").create_role(
            RoleName=ROLE_ARN.rsplit("/", 1)[1],
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )
        self._handler_arn: str | None = None

    @staticmethod
    def unique(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:8]}"

    # --- Lambda -------------------------------------------------------------------------------

    def function(
        self,
        name: str | None = None,
        handler: str = HANDLER,
        files: tuple[str, ...] = (HANDLERS,),
        timeout: int = 10,
        **kwargs: Any,
    ) -> str:
        """Creates a function from a zip of `files`; returns its ARN."""
        return self.lambda_.create_function(
            FunctionName=name or self.unique("conformance"),
            Runtime="python3.11",
            Role=ROLE_ARN,
            Handler=handler,
            Code={"ZipFile": code_zip(*files)},
            Timeout=timeout,
            **kwargs,
        )["FunctionArn"]

    @property
    def handler_arn(self) -> str:
        """The shared function running handlers.handler (made once per run)."""
        if self._handler_arn is None:
            self._handler_arn = self.function("conformance-handler")
        return self._handler_arn

    # --- Step Functions -----------------------------------------------------------------------

    def machine(self, definition: dict[str, Any] | str, type: str = "STANDARD", **kwargs: Any) -> str:
        """Creates a state machine; returns its ARN. `definition` may be a dict or raw text."""
        text = definition if isinstance(definition, str) else json.dumps(definition)
        return self.sfn.create_state_machine(
            name=kwargs.pop("name", None) or self.unique("conformance"),
            definition=text,
            roleArn=ROLE_ARN,
            type=type,
            **kwargs,
        )["stateMachineArn"]

    def start(self, machine_arn: str, execution_input: Any = None, **kwargs: Any) -> str:
        return self.sfn.start_execution(
            stateMachineArn=machine_arn,
            input=json.dumps({} if execution_input is None else execution_input),
            **kwargs,
        )["executionArn"]

    def finished(self, execution_arn: str, timeout: float = 30.0) -> Execution:
        """Waits until the execution is no longer RUNNING (polling, never a fixed sleep)."""
        described = poll(
            lambda: (
                (d := self.sfn.describe_execution(executionArn=execution_arn))["status"] != "RUNNING" and d
            ),
            f"execution {execution_arn} to finish",
            timeout=timeout,
        )
        return Execution(described, self.history(execution_arn))

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        while True:
            page = self.sfn.get_execution_history(**kwargs)
            events += page["events"]
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]

    def run(
        self, definition: dict[str, Any] | str, execution_input: Any = None, timeout: float = 30.0
    ) -> Execution:
        """Creates a STANDARD machine of `definition`, runs it once to its end."""
        return self.finished(self.start(self.machine(definition), execution_input), timeout=timeout)
