"""The context object: $$.Task.Token. ($$.Execution/$$.State/$$.StateMachine read into the
output make DescribeExecution answer 500 today, part "errors" of issue 13 fixes that; the
template is in /work/wt/prompts13/readme_basics.md until then.)

AWS: Step Functions developer guide, "Accessing execution data from the Context object in Step
Functions"."""

from __future__ import annotations

import json


def test_task_token_is_in_the_context_of_a_callback_task_only(aws):
    """The guide: $$.Task.Token exists while a .waitForTaskToken task runs."""
    definition = {
        "StartAt": "Wait",
        "States": {
            "Wait": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": aws.handler_arn, "Payload": {"token.$": "$$.Task.Token"}},
                "TimeoutSeconds": 10,
                "End": True,
            }
        },
    }
    execution = aws.start(aws.machine(definition))
    from tests.conformance.test_basics_timeouts import task_token

    token = task_token(aws, execution)
    assert token
    aws.sfn.send_task_success(taskToken=token, output=json.dumps({"echo": token}))
    run = aws.finished(execution)
    assert (run.status, run.output) == ("SUCCEEDED", {"echo": token})
