"""Pass and a Lambda task, the basics every other template leans on.

AWS: Step Functions developer guide, "Pass workflow state" and "Invoke Lambda with Step Functions"."""

from __future__ import annotations


def test_pass_result_placed_at_result_path_keeps_the_input(aws):
    run = aws.run(
        {
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "End": True}},
        },
        {"kept": True},
    )
    assert run.status == "SUCCEEDED"
    assert run.output == {"kept": True, "r": {"x": 1}}


def test_a_lambda_task_returns_the_handlers_answer(aws):
    run = aws.run(
        {
            "StartAt": "T",
            "States": {
                "T": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": aws.handler_arn, "Payload": {"return": {"ok": 1}}},
                    "OutputPath": "$.Payload",
                    "End": True,
                }
            },
        }
    )
    assert (run.status, run.output) == ("SUCCEEDED", {"ok": 1})
