"""A deployment package Lambda cannot unzip is refused when it is uploaded, as on AWS.

moto (5.2.5) stores whatever bytes CreateFunction, UpdateFunctionCode or PublishLayerVersion
carry as ZipFile: a truncated or non-zip upload is accepted and only the runner, at the first
invoke, finds it cannot start the function. AWS answers the upload itself with 400
InvalidParameterValueException, "Could not unzip uploaded file. Please check your file, then
try to upload again." An interceptor at the wire, since it needs only the request.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import zipfile
from typing import Any

from arcadeflow.aws.interceptor import Forward, Interceptor, Response, json_error
from arcadeflow.aws.moto_patches.registry import MotoPatch

UNZIP_FAILED = "Could not unzip uploaded file. Please check your file, then try to upload again."
# (method, path) of the uploads, and where the archive sits in their JSON body.
_UPLOADS = (
    ("POST", re.compile(r"^/2015-03-31/functions/?$"), ("Code", "ZipFile")),
    ("PUT", re.compile(r"^/2015-03-31/functions/[^/]+/code/?$"), ("ZipFile",)),
    ("POST", re.compile(r"^/2018-10-31/layers/[^/]+/versions/?$"), ("Content", "ZipFile")),
)


def _archive(environ: dict[str, Any], body: bytes) -> str | None:
    """The base64 ZipFile of an upload request, or None when this is not one (or has none)."""
    method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO", "")
    for upload_method, pattern, keys in _UPLOADS:
        if method != upload_method or not pattern.match(path):
            continue
        try:
            value: Any = json.loads(body or b"{}")
        except ValueError:
            return None  # moto answers a malformed request itself
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value if isinstance(value, str) else None
    return None


def is_unzippable(encoded: str) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(base64.b64decode(encoded, validate=True))) as archive:
            return archive.testzip() is None
    except (binascii.Error, ValueError, zipfile.BadZipFile, EOFError, OSError):
        return False


def refuse_unzippable_uploads(forward: Forward) -> Interceptor:
    def intercept(environ: dict[str, Any], body: bytes) -> Response | None:
        encoded = _archive(environ, body)
        if encoded is None or is_unzippable(encoded):
            return None
        return json_error(400, "InvalidParameterValueException", UNZIP_FAILED)

    return intercept


PATCH = MotoPatch(
    name="lambda_unzippable_code_refused",
    fixes="CreateFunction, UpdateFunctionCode and PublishLayerVersion accept a ZipFile that is not a zip",
    upstream=None,
    moto_versions=("5.2.5",),
    targets=("moto.awslambda.models._zipfile_content",),
    kind="interceptor",
    interceptor=refuse_unzippable_uploads,
)
