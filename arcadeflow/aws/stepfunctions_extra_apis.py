"""Step Functions APIs that moto lacks, served by the embedded AWS.

ACTIONS maps an `AWSStepFunctions.<Action>` target to a callable taking the request body (dict)
and returning the response body (dict); it may raise ApiError for a 4xx.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class ApiError(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


ACTIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
