"""The context object: $$.Execution, $$.State, $$.StateMachine (handed to a function, which
echoes them back), $$.Task.Token. ($$.Map.Item is in test_basics_map.py, $$.State.RetryCount
in test_basics_retry.py.)

AWS: Step Functions developer guide, "Accessing execution data from the Context object in Step
Functions"."""

from __future__ import annotations

import json
from datetime import datetime


def test_context_object_execution_state_and_state_machine_fields(aws):
    """Developer guide, "Accessing execution data from the Context object". The fields reach
    the output through a Lambda's echo: read straight into a Pass's output, the timestamps make
    DescribeExecution answer 500 until part "errors" of issue 13 lands."""
    fields = {
        "executionId.$": "$$.Execution.Id",
        "executionName.$": "$$.Execution.Name",
        "executionInput.$": "$$.Execution.Input",
        "startTime.$": "$$.Execution.StartTime",
        "roleArn.$": "$$.Execution.RoleArn",
        "stateName.$": "$$.State.Name",
        "enteredTime.$": "$$.State.EnteredTime",
        "retryCount.$": "$$.State.RetryCount",
        "machineId.$": "$$.StateMachine.Id",
        "machineName.$": "$$.StateMachine.Name",
    }
    definition = {
        "StartAt": "ReadContext",
        "States": {
            "ReadContext": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": aws.handler_arn, "Payload": fields},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }
    machine_name = aws.unique("context")
    machine = aws.machine(definition, name=machine_name)
    execution = aws.start(machine, {"given": 1}, name="context-run")
    run = aws.finished(execution)
    assert run.status == "SUCCEEDED", run.describe()
    seen = run.output
    assert seen["executionId"] == execution
    assert seen["executionName"] == "context-run"
    assert seen["executionInput"] == {"given": 1}
    assert seen["roleArn"] == aws.sfn.describe_state_machine(stateMachineArn=machine)["roleArn"]
    assert (seen["stateName"], seen["retryCount"]) == ("ReadContext", 0)
    assert (seen["machineId"], seen["machineName"]) == (machine, machine_name)
    # ISO 8601 timestamps: the state was entered at or after the execution started.
    started = datetime.fromisoformat(seen["startTime"].replace("Z", "+00:00"))
    entered = datetime.fromisoformat(seen["enteredTime"].replace("Z", "+00:00"))
    assert started <= entered


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
