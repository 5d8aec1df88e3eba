"""/console on the HTTP port: the page (static/) and its JSON API under /console/api/.

The API is a thin layer over the Step Functions API of the embedded AWS (boto3, so the page
sees exactly what a client of the endpoint sees), shaped for the page:

- GET /console/api/machines: `{"stateMachines": [{name, stateMachineArn, type, counts, total}]}`,
  counts by status;
- GET /console/api/executions?machine=&status=&since=&until=&redriven=&limit=&cursor=:
  `{"executions": [...], "nextCursor"}`, newest first;
- GET /console/api/execution?arn=: `{"execution", "definition", "events", "states"}`;
- POST /console/api/redrive `{"executionArns": [...]}`:
  `{"results": [{executionArn, redriven, redriveDate or error}]}`, each on its own;
- POST /console/api/replay `{"executionArn"}`: `{"executionArn", "name"}`, a new execution
  with the same input;
- POST /console/api/stop `{"executionArn"}`: `{"stopDate"}`.

Times are ISO 8601 (UTC, milliseconds); `since`/`until` take ISO 8601 or epoch milliseconds.
A refusal is the runtime's one error shape `{"error": {"code", "message"}}`; a Step Functions
error keeps its own code (ExecutionNotRedrivable, ExecutionDoesNotExist, ...).

Like /local/*, it answers only requests addressed to a loopback Host, and its POSTs take only
application/json, which a cross-site page cannot send without a CORS preflight this server never
approves: a page elsewhere must not stop or redrive a developer's executions.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import uuid
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from werkzeug.wrappers import Request, Response

from arcadeflow.apigateway.local_endpoints import LocalPages, is_loopback_host
from arcadeflow.console.history import read_states

log = logging.getLogger("arcadeflow.console")

PREFIX = "/console"
API_PREFIX = "/console/api/"
STATIC_DIR = Path(__file__).resolve().parent / "static"
STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
DEFAULT_PAGE_SIZE = 50
HISTORY_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 500
# A body of ARNs; 1,000 of them are well under this.
MAX_BODY_BYTES = 256 * 1024
MAX_REDRIVE_BATCH = 1000
# Step Functions refuses execution names over 80 characters; "-replay-NNN" must fit.
REPLAY_BASE_LENGTH = 68
NOT_FOUND_CODES = frozenset({"ExecutionDoesNotExist", "StateMachineDoesNotExist"})


class ConsoleRefusal(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _json(status: int, body: Any) -> Response:
    response = Response(json.dumps(body, default=_iso), status=status, content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _error(status: int, code: str, message: str) -> Response:
    return _json(status, {"error": {"code": code, "message": message}})


def _iso(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    raise TypeError(f"not JSON: {type(value).__name__}")


def parse_time(text: str, field: str) -> datetime.datetime:
    """ISO 8601 (a bare date-time is UTC) or epoch milliseconds."""
    try:
        if text.isdigit():
            return datetime.datetime.fromtimestamp(int(text) / 1000, datetime.UTC)
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise ConsoleRefusal(400, "invalid_query", f"{field}: ISO 8601 or epoch milliseconds") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _clean(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def _encode_cursor(row: dict[str, Any]) -> str:
    key = json.dumps([_iso(row["startDate"]), row["executionArn"]])
    return base64.urlsafe_b64encode(key.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime.datetime, str]:
    try:
        started, arn = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return parse_time(started, "cursor"), str(arn)
    except (ValueError, TypeError, ConsoleRefusal):
        raise ConsoleRefusal(400, "invalid_cursor", "the cursor is not one this API gave") from None


class ConsoleApi:
    """Serves /console: the static page and /console/api/* over a Step Functions client."""

    def __init__(self, sfn: Any, static_dir: Path = STATIC_DIR):
        self.sfn = sfn
        self.pages = LocalPages({PREFIX: static_dir})

    def handle(self, request: Request) -> Response | None:
        """The answer to a request under /console; None for any other path."""
        if request.path != PREFIX and not request.path.startswith(PREFIX + "/"):
            return None
        if not is_loopback_host(request):
            return _error(403, "not_loopback", "the console answers only requests to a loopback host")
        if not request.path.startswith(API_PREFIX):
            return self.pages.handle(request)
        try:
            return self._api(request, request.path[len(API_PREFIX) :])
        except ConsoleRefusal as refusal:
            return _error(refusal.status, refusal.code, refusal.message)
        except ClientError as exc:
            return self._client_error(exc)

    # --- routing ----------------------------------------------------------------------------

    def _api(self, request: Request, route: str) -> Response:
        reads = {"machines": self.machines, "executions": self.executions, "execution": self.execution}
        actions = {"redrive": self.redrive, "replay": self.replay, "stop": self.stop}
        if route in reads:
            if request.method != "GET":
                return _method_not_allowed("GET")
            return _json(200, reads[route](request.args))
        if route in actions:
            if request.method != "POST":
                return _method_not_allowed("POST")
            return _json(200, actions[route](self._body(request)))
        return _error(404, "not_found", f"no console API {route!r}")

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        if request.mimetype != "application/json":
            raise ConsoleRefusal(415, "unsupported_media_type", "send the body as application/json")
        if (request.content_length or 0) > MAX_BODY_BYTES:
            raise ConsoleRefusal(413, "body_too_large", f"at most {MAX_BODY_BYTES} bytes")
        raw = request.get_data(cache=False)
        if len(raw) > MAX_BODY_BYTES:
            raise ConsoleRefusal(413, "body_too_large", f"at most {MAX_BODY_BYTES} bytes")
        try:
            body = json.loads(raw)
        except ValueError:
            raise ConsoleRefusal(400, "malformed_body", "the body is not JSON") from None
        except RecursionError:
            # json.loads recurses per level; no console request nests beyond a few.
            raise ConsoleRefusal(400, "invalid_body", "the body is nested too deeply") from None
        if not isinstance(body, dict):
            raise ConsoleRefusal(400, "invalid_body", "the body is a JSON object")
        return body

    @staticmethod
    def _client_error(exc: ClientError) -> Response:
        error = exc.response.get("Error", {})
        code = error.get("Code") or "StepFunctionsError"
        status = (
            404
            if code in NOT_FOUND_CODES
            else exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
        )
        return _error(status if 400 <= status < 600 else 400, code, error.get("Message") or str(exc))

    # --- reads ------------------------------------------------------------------------------

    def _all_executions(self, machine_arn: str, **filters: str) -> list[dict[str, Any]]:
        pages = self.sfn.get_paginator("list_executions").paginate(stateMachineArn=machine_arn, **filters)
        return [row for page in pages for row in page["executions"]]

    def _machines(self) -> list[dict[str, Any]]:
        pages = self.sfn.get_paginator("list_state_machines").paginate()
        return [machine for page in pages for machine in page["stateMachines"]]

    def machines(self, args: Any) -> dict[str, Any]:
        machines = []
        for machine in sorted(self._machines(), key=lambda m: m["name"]):
            counts = dict.fromkeys(STATUSES, 0)
            # Step Functions keeps no history of Express executions (AWS's console shows them from
            # CloudWatch Logs): an EXPRESS machine is listed with none.
            express = machine.get("type") == "EXPRESS"
            executions = [] if express else self._all_executions(machine["stateMachineArn"])
            for row in executions:
                counts[row["status"]] = counts.get(row["status"], 0) + 1
            machines.append(
                {
                    "name": machine["name"],
                    "stateMachineArn": machine["stateMachineArn"],
                    "type": machine.get("type", "STANDARD"),
                    "creationDate": machine.get("creationDate"),
                    "counts": counts,
                    "total": len(executions),
                    "lastStartDate": max((r["startDate"] for r in executions), default=None),
                }
            )
        return {"stateMachines": machines}

    def _machine_arn(self, machine: str) -> str:
        if machine.startswith("arn:"):
            return machine
        for known in self._machines():
            if known["name"] == machine:
                return str(known["stateMachineArn"])
        raise ConsoleRefusal(404, "StateMachineDoesNotExist", f"no state machine named {machine!r}")

    def executions(self, args: Any) -> dict[str, Any]:
        """Newest first across the machines asked for; the cursor is the last row's (startDate,
        ARN), so executions started while a reader pages never shift the pages after it."""
        status = args.get("status") or None
        if status is not None and status not in STATUSES:
            raise ConsoleRefusal(400, "invalid_query", f"status: one of {', '.join(STATUSES)}")
        redriven = args.get("redriven")
        if redriven not in (None, "", "true", "false"):
            raise ConsoleRefusal(400, "invalid_query", "redriven: true or false")
        try:
            limit = int(args.get("limit") or DEFAULT_PAGE_SIZE)
        except ValueError:
            raise ConsoleRefusal(400, "invalid_query", "limit: a whole number") from None
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ConsoleRefusal(400, "invalid_query", f"limit: 1 to {MAX_PAGE_SIZE}")
        since = parse_time(args["since"], "since") if args.get("since") else None
        until = parse_time(args["until"], "until") if args.get("until") else None
        after = _decode_cursor(args["cursor"]) if args.get("cursor") else None
        machine = args.get("machine")
        machines = {m["stateMachineArn"]: m["name"] for m in self._machines()}
        arns = [self._machine_arn(machine)] if machine else list(machines)
        filters: dict[str, str] = {}
        if status:
            filters["statusFilter"] = status
        if redriven:
            filters["redriveFilter"] = "REDRIVEN" if redriven == "true" else "NOT_REDRIVEN"
        rows = []
        for arn in arns:
            for row in self._all_executions(arn, **filters):
                started = row["startDate"]
                if (since and started < since) or (until and started > until):
                    continue
                if after and (started, row["executionArn"]) >= after:
                    continue
                row["machineName"] = machines.get(arn, arn.rsplit(":", 1)[-1])
                rows.append(row)
        rows.sort(key=lambda r: (r["startDate"], r["executionArn"]), reverse=True)
        page = rows[:limit]
        return {
            "executions": page,
            "nextCursor": _encode_cursor(page[-1]) if len(rows) > limit else None,
        }

    def execution(self, args: Any) -> dict[str, Any]:
        arn = args.get("arn")
        if not arn:
            raise ConsoleRefusal(400, "invalid_query", "arn: the execution's ARN")
        described = _clean(self.sfn.describe_execution(executionArn=arn))
        # Pages of 1,000 (the API's most): moto answers every page by walking the whole history,
        # so boto3's default 100 made a 6,000-event history take 8.6 s on a loaded 2-core machine.
        pages = self.sfn.get_paginator("get_execution_history").paginate(
            executionArn=arn, PaginationConfig={"PageSize": HISTORY_PAGE_SIZE}
        )
        events = [event for page in pages for event in page["events"]]
        definition = self._definition(arn, described["stateMachineArn"])
        states = read_states(events, described["status"]).summary(datetime.datetime.now(datetime.UTC))
        for name, state in _walk_states(definition):
            if name not in states:
                states[name] = {"name": name, "status": "not_reached", "entries": 0}
            row = states[name]
            row["type"] = state.get("Type")
            # A Fail state's error is its definition's when no event carried it (one in a Map
            # iteration fails the iteration, and the Map's event names no error).
            if state.get("Type") == "Fail" and row["status"] == "failed" and not row.get("error"):
                row["error"], row["cause"] = state.get("Error"), state.get("Cause")
        return {"execution": described, "definition": definition, "events": events, "states": states}

    def _definition(self, execution_arn: str, machine_arn: str) -> dict[str, Any]:
        """The definition the execution ran (moto keeps one version: the machine's)."""
        try:
            text = self.sfn.describe_state_machine_for_execution(executionArn=execution_arn)["definition"]
        except ClientError:
            text = self.sfn.describe_state_machine(stateMachineArn=machine_arn)["definition"]
        definition = json.loads(text)
        return definition if isinstance(definition, dict) else {}

    # --- actions ----------------------------------------------------------------------------

    def redrive(self, body: dict[str, Any]) -> dict[str, Any]:
        """Each execution redriven on its own: one that cannot be says why, the others go on."""
        arns = body.get("executionArns")
        if not isinstance(arns, list) or not arns or not all(isinstance(a, str) and a for a in arns):
            raise ConsoleRefusal(400, "invalid_body", '{"executionArns": [one or more ARNs]}')
        if len(arns) > MAX_REDRIVE_BATCH:
            raise ConsoleRefusal(400, "invalid_body", f"at most {MAX_REDRIVE_BATCH} executions at once")
        results = []
        for arn in dict.fromkeys(arns):
            try:
                answer = self.sfn.redrive_execution(executionArn=arn, clientToken=str(uuid.uuid4()))
            except ClientError as exc:
                error = exc.response.get("Error", {})
                results.append(
                    {
                        "executionArn": arn,
                        "redriven": False,
                        "error": {
                            "code": error.get("Code") or "StepFunctionsError",
                            "message": error.get("Message"),
                        },
                    }
                )
                continue
            results.append({"executionArn": arn, "redriven": True, "redriveDate": answer.get("redriveDate")})
        return {"results": results}

    def replay(self, body: dict[str, Any]) -> dict[str, Any]:
        """A new execution of the same machine with the original input, named
        <name>-replay-N (the first N not taken), as `arcadeflow replay` names it."""
        arn = _execution_arn_of(body)
        described = self.sfn.describe_execution(executionArn=arn)
        if described["status"] == "RUNNING":
            raise ConsoleRefusal(
                409, "execution_running", "a running execution cannot be replayed; stop it first"
            )
        taken = {row["name"] for row in self._all_executions(described["stateMachineArn"])}
        base = described["name"][:REPLAY_BASE_LENGTH]
        attempt = 1
        while f"{base}-replay-{attempt}" in taken:
            attempt += 1
        name = f"{base}-replay-{attempt}"
        started = self.sfn.start_execution(
            stateMachineArn=described["stateMachineArn"], name=name, input=described.get("input") or "{}"
        )
        return {"executionArn": started["executionArn"], "name": name, "startDate": started["startDate"]}

    def stop(self, body: dict[str, Any]) -> dict[str, Any]:
        arn = _execution_arn_of(body)
        stopped = self.sfn.stop_execution(
            executionArn=arn, error="Console.Stopped", cause="Stopped from the arcadeflow console"
        )
        # StopExecution is synchronous (on AWS, and in the embedded AWS through the moto patch
        # stepfunctions_synchronous_stop): when it answers, the execution is ABORTED.
        return {"executionArn": arn, "stopDate": stopped["stopDate"]}


def _execution_arn_of(body: dict[str, Any]) -> str:
    arn = body.get("executionArn")
    if not isinstance(arn, str) or not arn:
        raise ConsoleRefusal(400, "invalid_body", '{"executionArn": "<the execution ARN>"}')
    return arn


def _walk_states(definition: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every state of a definition, inner states of Map and Parallel included."""
    found: list[tuple[str, dict[str, Any]]] = []
    for name, state in (definition.get("States") or {}).items():
        found.append((name, state))
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            found += _walk_states(processor)
        for branch in state.get("Branches") or []:
            found += _walk_states(branch)
    return found


def _method_not_allowed(allowed: str) -> Response:
    response = _error(405, "method_not_allowed", f"use {allowed}")
    response.headers["Allow"] = allowed
    return response
