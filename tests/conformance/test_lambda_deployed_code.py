"""The code a function runs is the code that was deployed: its zip (or S3 object), its layers.

AWS: Lambda developer guide, "Deploying Python Lambda functions with .zip file archives" and
"Working with layers for Python Lambda functions"; Step Functions developer guide, "Handling
errors in Step Functions workflows" (a Lambda error's name is its errorType)."""

from __future__ import annotations

import io
import json
import zipfile

from tests.conformance.harness import ROLE_ARN

WHERE = "tests.conformance.handlers_lambda.where"


def zip_of(files: dict[str, str]) -> bytes:
    """A deployment package holding exactly `files` (name -> source text)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def create(aws, code: dict[str, object], handler: str = "app.handler", **kwargs) -> str:
    return aws.lambda_.create_function(
        FunctionName=aws.unique("deployed"),
        Runtime="python3.11",
        Role=ROLE_ARN,
        Handler=handler,
        Code=code,
        Timeout=10,
        **kwargs,
    )["FunctionArn"]


def invoke(aws, function: str, payload: object = None) -> tuple[str | None, object]:
    answer = aws.lambda_.invoke(FunctionName=function, Payload=json.dumps(payload or {}).encode())
    return answer.get("FunctionError"), json.loads(answer["Payload"].read())


def task(function_arn: str, **extra: object) -> dict[str, object]:
    return {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
                "OutputPath": "$.Payload",
                **extra,
                **({} if "Next" in extra else {"End": True}),
            },
            **({"Caught": {"Type": "Pass", "End": True}} if "Catch" in extra else {}),
        },
    }


def test_a_users_own_zip_runs_its_own_code(aws):
    arn = create(
        aws, {"ZipFile": zip_of({"app.py": "def handler(event, context):\n    return {'mine': True}\n"})}
    )
    run = aws.run(task(arn))
    assert (run.status, run.output) == ("SUCCEEDED", {"mine": True})


def test_a_package_that_misses_a_module_fails_with_runtime_import_module_error(aws):
    """The handler imports a module the zip does not hold: Lambda's init fails, and the Task's
    error is the function error's errorType, which a Catch names."""
    code = zip_of({"app.py": "import missing_helper\n\ndef handler(event, context):\n    return 1\n"})
    arn = create(aws, {"ZipFile": code})
    error, payload = invoke(aws, arn)
    assert error == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert payload["errorMessage"] == "Unable to import module 'app': No module named 'missing_helper'"
    caught = aws.run(
        task(
            arn,
            Catch=[{"ErrorEquals": ["Runtime.ImportModuleError"], "Next": "Caught", "ResultPath": "$.error"}],
        )
    )
    assert caught.status == "SUCCEEDED"
    assert caught.output["error"]["Error"] == "Runtime.ImportModuleError"


def test_the_checkouts_files_are_not_what_a_function_runs(aws):
    """A zip naming arcadeflow's own handler path without holding functions/ does not find it:
    only what was deployed is importable (on AWS, the checkout is not there at all)."""
    arn = create(aws, {"ZipFile": zip_of({"README.txt": "no code"})}, handler="functions.shared.http.handler")
    error, payload = invoke(aws, arn)
    assert (error, payload["errorType"]) == ("Unhandled", "Runtime.ImportModuleError")


def test_update_function_code_makes_the_next_invoke_run_the_new_code(aws):
    arn = create(aws, {"ZipFile": zip_of({"app.py": "def handler(e, c):\n    return 'first'\n"})})
    assert invoke(aws, arn) == (None, "first")  # a warm worker now holds the first version
    aws.lambda_.update_function_code(
        FunctionName=arn, ZipFile=zip_of({"app.py": "def handler(e, c):\n    return 'second'\n"})
    )
    assert invoke(aws, arn) == (None, "second")


def test_code_from_an_s3_object_runs(aws):
    s3 = aws.aws.client("s3")
    bucket = aws.unique("code")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(
        Bucket=bucket, Key="app.zip", Body=zip_of({"app.py": "def handler(e, c):\n    return 's3'\n"})
    )
    arn = create(aws, {"S3Bucket": bucket, "S3Key": "app.zip"})
    assert invoke(aws, arn) == (None, "s3")


def publish_layer(aws, files: dict[str, str]) -> str:
    return aws.lambda_.publish_layer_version(
        LayerName=aws.unique("layer"), Content={"ZipFile": zip_of(files)}, CompatibleRuntimes=["python3.11"]
    )["LayerVersionArn"]


def test_a_layers_python_folder_is_importable_and_a_later_layer_wins(aws):
    """Layers are extracted into /opt in the function's order, a later layer's file replacing an
    earlier one's; python/ and python/lib/python3.11/site-packages are on the path."""
    first = publish_layer(
        aws,
        {
            "python/shared_name.py": "WHO = 'first'\n",
            "python/lib/python3.11/site-packages/lib_one.py": "X = 1\n",
        },
    )
    second = publish_layer(aws, {"python/shared_name.py": "WHO = 'second'\n"})
    handler = (
        "import lib_one\nimport shared_name\n\ndef handler(e, c):\n    return [shared_name.WHO, lib_one.X]\n"
    )
    arn = create(aws, {"ZipFile": zip_of({"app.py": handler})}, Layers=[first, second])
    assert invoke(aws, arn) == (None, ["second", 1])


def test_the_task_root_holds_the_zip_and_comes_first_on_the_path(aws):
    layer = publish_layer(aws, {"python/unused.py": ""})
    arn = aws.function(handler=WHERE, files=("tests/conformance/handlers_lambda.py",), Layers=[layer])
    error, answer = invoke(aws, arn)
    assert error is None
    assert answer["cwd"] == answer["task_root"]
    assert answer["files"] == ["tests"]
    assert answer["path"][0] == answer["task_root"]
    # AWS's Python runtime: /opt/python/lib/python3.11/site-packages, then /opt/python.
    assert answer["path"][1].endswith("/python/lib/python3.11/site-packages")
    assert answer["path"][2].endswith("/python")


def test_an_upload_lambda_cannot_unzip_is_refused_when_uploaded(aws):
    """API reference, CreateFunction / UpdateFunctionCode / PublishLayerVersion:
    InvalidParameterValueException for a package Lambda cannot unzip."""
    from botocore.exceptions import ClientError

    refusals = []
    for upload in (
        lambda: create(aws, {"ZipFile": b"not a zip"}),
        lambda: aws.lambda_.update_function_code(
            FunctionName=create(aws, {"ZipFile": zip_of({"app.py": ""})}), ZipFile=b"PK\x03\x04truncated"
        ),
        lambda: aws.lambda_.publish_layer_version(
            LayerName=aws.unique("layer"), Content={"ZipFile": b"junk"}
        ),
    ):
        try:
            upload()
        except ClientError as exc:
            refusals.append((exc.response["Error"]["Code"], exc.response["Error"]["Message"]))
    assert (
        refusals
        == [
            (
                "InvalidParameterValueException",
                "Could not unzip uploaded file. Please check your file, then try to upload again.",
            )
        ]
        * 3
    )
