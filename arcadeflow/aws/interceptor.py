"""The request-interceptor seam of the embedded AWS's WSGI front (see embedded.py).

An interceptor sees every request before moto does: it answers it (returns a Response), or
passes it on (returns None). One that must change a request forwards the rewritten request to
moto itself through a Forward and returns moto's answer. Where a departure of moto from AWS can
be fixed at this seam, it is fixed here rather than by replacing moto's internals: the wire is a
contract moto keeps across versions, its private names are not.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

Response = tuple[int, dict[str, str], bytes]
Interceptor = Callable[[dict[str, Any], bytes], Response | None]
# Hands a (possibly rewritten) request to moto and returns its answer.
Forward = Callable[[dict[str, Any], bytes], Response]


def json_error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"__type": code, "message": message, "Message": message}).encode()
    # AWS answers every request with a request id; clients put it in their error (Step Functions
    # in a failed Task's cause), and moto's interpreter fails without one.
    headers = {
        "Content-Type": "application/json",
        "X-Amzn-ErrorType": code,
        "x-amzn-RequestId": str(uuid.uuid4()),
    }
    return status, headers, body


def json_request(environ: dict[str, Any], body: bytes, target: str) -> dict[str, Any] | None:
    """The JSON body of a request to this X-Amz-Target (`AWSStepFunctions.StartExecution`), or
    None for another target or a body that is no JSON object (moto answers a malformed request
    itself, as AWS would)."""
    if environ.get("HTTP_X_AMZ_TARGET") != target:
        return None
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return None
    return request if isinstance(request, dict) else None
