"""Hypothesis over the WebSocket API of a running `arcadeflow up`, from the frames' JSON Schemas.

For every action the description routes (and `$default`), frames are drawn from the action's
schema under schemas/ (by `frames_of`, below): valid ones, near-valid ones (one field missing,
extra, or of any other JSON value), garbage text, binary frames, oversize and deeply nested
ones. Every frame is classified independently of the server, from the documented rules
(README, "Duels over the WebSocket API"), and the server must agree:

- over API Gateway's 32 KB: a close with 1009; a binary frame: a close with 1003; text that is
  not UTF-8: a close with 1007. A close always carries its code: a connection that just drops
  fails the test.
- otherwise an answer on the same connection: an error frame (schemas/ws_frame_error.schema.json)
  whose code is the frame error the rules name (frame_too_large over 4 KB, malformed_frame for
  no JSON object or nesting past 32 levels, unknown_action, invalid_frame when the action's
  schema refuses it), or for a frame its schema accepts, that action's answer (a domain refusal
  such as unknown_invite, or its answer frame, checked against its schema).
- a refused frame changes nothing: every table the message routes may write, and the count of
  executions of every state machine they may start, are the same after it as before.

Examples are derandomized (the same frames on every run) and bounded: about 280 frames, ~100 s
of test time on this 2-core machine at load average 20-24 (2026-12-02), besides the stack start.
"""

from __future__ import annotations

import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, validators
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from arcadeflow.deployment import load
from tests.support.stack import wait_for

pytestmark = pytest.mark.e2e

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
API_GATEWAY_FRAME_LIMIT = 32 * 1024  # bytes; over it API Gateway closes with 1009
HANDLER_FRAME_LIMIT = 4096  # bytes; functions/{duels,matchmaking}/models.py MAX_FRAME_BYTES
MAX_JSON_DEPTH = 32  # functions/shared/json_limits.py
FRAME_ERRORS = {"malformed_frame", "unknown_action", "invalid_frame", "frame_too_large"}
ANSWER_SECONDS = 15

# What a frame its schema accepts gets from a player who is in no queue, game, invite or
# session, addressing ids and users that do not exist: the action's documented answer.
VALID_ANSWERS: dict[str, set[str]] = {
    "invite": {"error:invitee_offline", "error:cannot_invite_self"},
    "respond": {"error:unknown_invite"},
    "stop": {"error:unknown_session"},
    "sessions": {"sessions"},
    "ping": {"pong"},
    "joinQueue": {"queued"},
    "requeue": {"queued"},
    "leaveQueue": {"error:not_queued"},
    "move": {"error:unknown_game"},
}
# Pushed to a player by the flows on their own, not in answer to the frame just sent.
UNSOLICITED = {"queueUpdate", "presence"}

SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=12,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


# --- what the description and schemas say ---------------------------------------------------


def message_routes() -> dict[str, str]:
    """Route key -> function of every route a client's message can reach."""
    routes = load().resolved().web_socket_api.routes
    return {key: route.function for key, route in routes.items() if key not in ("$connect", "$disconnect")}


@cache
def client_frame_schemas() -> dict[str, dict[str, Any]]:
    """Action -> JSON Schema of the frame a client sends for it (schemas/ws_*, not ws_frame_*)."""
    found = {}
    for path in sorted(SCHEMAS.glob("ws_*.schema.json")):
        if path.name.startswith("ws_frame_"):
            continue
        schema = json.loads(path.read_text())
        found[schema["properties"]["action"]["const"]] = schema
    return found


@cache
def answer_frame_validators() -> dict[str, Draft202012Validator]:
    """Frame type -> validator of the frames the server sends."""
    found = {}
    for path in sorted(SCHEMAS.glob("ws_frame_*.schema.json")):
        schema = json.loads(path.read_text())
        found[schema["properties"]["type"]["const"]] = Draft202012Validator(schema)
    return found


# JSON Schema's "integer" includes 3.0; the frames' models are strict and the README says an
# integer is written without a fraction or exponent, so the oracle checks what was written.
_WRITTEN_INTEGER = Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)
)
FrameValidator = validators.extend(Draft202012Validator, type_checker=_WRITTEN_INTEGER)


def ecma_patterns(schema: Any) -> Any:
    """The schema with each pattern's final `$` as ECMA-262 (JSON Schema's regex dialect) and the
    server read it: the end of the text. Python's `$` also matches before a final newline."""
    if isinstance(schema, dict):
        out = {k: ecma_patterns(v) for k, v in schema.items()}
        if isinstance(out.get("pattern"), str) and out["pattern"].endswith("$"):
            out["pattern"] = out["pattern"][:-1] + r"\Z"
        return out
    if isinstance(schema, list):
        return [ecma_patterns(v) for v in schema]
    return schema


@cache
def frame_validator(action: str) -> Any:
    return FrameValidator(ecma_patterns(client_frame_schemas()[action]))


# The keywords the frame schemas use; frames_of refuses a schema with any other, rather than
# silently generating frames that ignore it.
_KNOWN_KEYWORDS = {
    "$id", "$schema", "title", "description", "default", "type", "const", "anyOf", "properties",
    "required", "additionalProperties", "pattern", "minLength", "maxLength", "minimum", "maximum",
}  # fmt: skip


def frames_of(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Every value `schema` accepts (for the subset of JSON Schema the frame schemas use)."""
    unknown = set(schema) - _KNOWN_KEYWORDS
    assert not unknown, f"frames_of does not know {unknown}: teach it before fuzzing with it"
    if "const" in schema:
        return st.just(schema["const"])
    if "anyOf" in schema:
        return st.one_of([frames_of(option) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "object":
        assert schema.get("additionalProperties") is False, "frames are closed objects"
        properties = {k: frames_of(v) for k, v in schema["properties"].items()}
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: v for k, v in properties.items() if k in required},
            optional={k: v for k, v in properties.items() if k not in required},
        )
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        if "pattern" in schema:
            # fullmatch: the whole string, as ECMA's `^...$` means (see ecma_patterns).
            texts = st.from_regex(schema["pattern"], fullmatch=True)
            return texts.filter(lambda t: low <= len(t) and (high is None or len(t) <= high))
        return st.text(min_size=low, max_size=high)
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    raise AssertionError(f"frames_of does not know type {kind!r}")


ACTIONS = sorted(key for key in message_routes() if not key.startswith("$"))


def test_every_routed_action_has_a_frame_schema_and_a_documented_answer():
    """The fuzzing below covers what the description routes: a new action fails here until it
    has a schema (tools/schemas.py) and its answer is listed in VALID_ANSWERS."""
    assert "$default" in message_routes()
    assert set(ACTIONS) == set(client_frame_schemas())
    assert set(ACTIONS) == set(VALID_ANSWERS)


# --- what the documented rules expect of a frame ----------------------------------------------


def depth_exceeds(text: str, limit: int) -> bool:
    """Nesting depth of brackets outside JSON strings, counted without recursion."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def holds_a_lone_surrogate(value: Any) -> bool:
    """JSON can escape half a surrogate pair ("\\ud800"); such a string is not Unicode text, and
    a frame holding one is refused as invalid (it could be stored or sent on nowhere)."""
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, dict):
        return any(holds_a_lone_surrogate(k) or holds_a_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_a_lone_surrogate(v) for v in value)
    return False


def expected_outcome(frame: str | bytes) -> str:
    """What the rules promise for a frame: "close:<code>", "error:<code>" or "valid:<action>"."""
    if isinstance(frame, bytes):
        return "close:1003"
    size = len(frame.encode("utf-8"))
    if size > API_GATEWAY_FRAME_LIMIT:
        return "close:1009"
    if size > HANDLER_FRAME_LIMIT:
        return "error:frame_too_large"
    if depth_exceeds(frame, MAX_JSON_DEPTH):
        return "error:malformed_frame"
    try:
        data = json.loads(frame)
    except ValueError:
        return "error:malformed_frame"
    if not isinstance(data, dict):
        return "error:malformed_frame"
    action = data.get("action")
    schema = client_frame_schemas().get(action) if isinstance(action, str) else None
    if schema is None:
        return "error:unknown_action"
    if not frame_validator(action).is_valid(data) or holds_a_lone_surrogate(data):
        return "error:invalid_frame"
    return f"valid:{action}"


# --- the running stack --------------------------------------------------------------------------


class StateProbe:
    """Everything a message route may change: the items of every table its function may write,
    and how many executions each state machine it may start has had."""

    def __init__(self, stack):
        described = load().resolved()
        functions = set(message_routes().values())
        table_names = stack.endpoints()["tables"]
        machine_arns = stack.endpoints()["stateMachines"]
        writable, startable = set(), set()
        for name in functions:
            grants = described.functions[name].grants
            writable |= {t for t, access in grants.tables.items() if access == "readwrite"}
            startable |= set(grants.state_machines_start)
        self.tables = sorted(table_names[t] for t in writable)
        self.connections_table = table_names["connections"]
        self.machines = sorted(machine_arns[m] for m in startable)
        self.dynamodb = stack.client("dynamodb")
        self.sfn = stack.client("stepfunctions")

    def snapshot(self, except_connections_of: str | None = None) -> dict[str, Any]:
        """The state, leaving out the connection items of user `except_connections_of`."""
        state: dict[str, Any] = {}
        for table in self.tables:
            items = []
            for page in self.dynamodb.get_paginator("scan").paginate(TableName=table):
                items += page["Items"]
            if table == self.connections_table:
                items = [i for i in items if i.get("userId") != {"S": except_connections_of}]
            state[table] = sorted(json.dumps(item, sort_keys=True) for item in items)
        for arn in self.machines:
            count = 0
            for page in self.sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
                count += len(page["executions"])
            state[arn] = count
        return state


class FuzzPlayer:
    """One connected player who sends a frame and reads what comes back for it, reconnecting
    after a close."""

    def __init__(self, stack):
        self.user_id = f"fuzz-{uuid.uuid4().hex[:8]}"
        self.url = f"{stack.endpoints()['websocket']}?token={stack.token(self.user_id)}"
        self.websocket: ClientConnection | None = None

    def connection(self) -> ClientConnection:
        if self.websocket is None:
            self.websocket = connect(self.url, open_timeout=30, max_size=2**20)
        return self.websocket

    def exchange(self, frame: str | bytes) -> tuple[str, dict[str, Any] | None]:
        """("close:<code>", None), or (answer, frame) with answer "error:<code>" or the type."""
        websocket = self.connection()
        try:
            websocket.send(frame)
            while True:
                answer = json.loads(websocket.recv(timeout=ANSWER_SECONDS))
                if answer.get("type") not in UNSOLICITED:
                    break
        except ConnectionClosed as closed:
            self.websocket = None
            # rcvd is the close frame the server sent: None means the connection just dropped.
            return f"close:{closed.rcvd.code if closed.rcvd else 'dropped'}", None
        except TimeoutError:
            return "silence", None
        if answer.get("type") == "error":
            return f"error:{answer.get('code')}", answer
        return str(answer.get("type", answer.get("message"))), answer

    def close(self) -> None:
        if self.websocket is not None:
            self.websocket.close()


@pytest.fixture(scope="module")
def fuzz(stack):
    player = FuzzPlayer(stack)
    probe = StateProbe(stack)
    yield player, probe
    player.close()


def assert_served_as_documented(fuzz, frame: str | bytes) -> None:
    player, probe = fuzz
    expected = expected_outcome(frame)
    player.connection()  # connected before the snapshot: its $connect is not the frame's doing
    # A close takes the connection's own item with it ($disconnect); nothing else may change.
    closing = player.user_id if expected.startswith("close:") else None
    before = probe.snapshot(except_connections_of=closing)
    outcome, answer = player.exchange(frame)
    shown = repr(frame[:300])
    if expected.startswith("valid:"):
        action = expected.removeprefix("valid:")
        assert outcome in VALID_ANSWERS[action], f"{shown}: {action} answered {outcome} ({answer})"
    else:
        assert outcome == expected, f"{shown}: expected {expected}, got {outcome} ({answer})"
    if answer is not None:
        validator = answer_frame_validators().get(answer.get("type", ""))
        assert validator is not None and validator.is_valid(answer), f"{shown}: answer {answer}"
    if outcome == "queued":
        # The one valid frame here that changes something: leave again, so the player is back
        # where every example starts (in no queue).
        assert player.exchange(json.dumps({"action": "leaveQueue"}))[0] == "queueLeft"
        return
    if outcome.startswith(("error:", "close:")):
        after = probe.snapshot(except_connections_of=closing)
        assert after == before, f"{shown} was refused ({outcome}) but changed state"


# --- strategies -----------------------------------------------------------------------------------

# Lone surrogates (which JSON can escape, and UTF-8 cannot encode) and control characters too.
ODD_TEXT = st.text(st.characters(categories=["Cs", "Cc", "Zs", "So"]), min_size=1, max_size=6)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40) | ODD_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def near_valid_frames(draw, action: str) -> str:
    """A valid frame of `action` with one thing changed: a field dropped, added, or replaced by
    any JSON value (a wrong type, out of range, too long: the schema decides which it is)."""
    schema = client_frame_schemas()[action]
    frame = dict(draw(frames_of(schema)))
    fields = sorted(k for k in schema["properties"] if k != "action")
    change = draw(st.sampled_from(["drop", "add", "replace", "replace-action"] if fields else ["add"]))
    if change == "drop":
        frame.pop(draw(st.sampled_from(fields)), None)
    elif change == "add":
        frame[draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in schema["properties"]))] = 1
    elif change == "replace":
        frame[draw(st.sampled_from(fields))] = draw(JSON_VALUES)
    else:
        frame["action"] = draw(JSON_VALUES | st.sampled_from([a.upper() for a in ACTIONS]))
    return json.dumps(frame)


def deep_frame(depth: int, action: str, opener: str) -> str:
    closer = "]" if opener == "[" else "}"
    return json.dumps({"action": action, "x": "@"}).replace('"@"', opener * depth + "1" + closer * depth)


# --- the properties -----------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS)
@SETTINGS
@given(data=st.data())
def test_valid_frames_get_the_actions_answer(fuzz, action, data):
    frame = data.draw(frames_of(client_frame_schemas()[action]))
    assert frame_validator(action).is_valid(frame), f"frames_of drew an invalid {action}: {frame}"
    assert_served_as_documented(fuzz, json.dumps(frame))


@pytest.mark.parametrize("action", ACTIONS)
@SETTINGS
@given(data=st.data())
def test_near_valid_frames_get_an_error_frame_and_change_nothing(fuzz, action, data):
    assert_served_as_documented(fuzz, data.draw(near_valid_frames(action)))


@settings(SETTINGS, max_examples=40)
@given(
    frame=st.text(max_size=200)
    | st.from_regex(r'\A\{"action": ?"[a-zA-Z$]{0,12}"[^}]{0,40}\}?\Z')
    | JSON_VALUES.map(json.dumps)
)
def test_garbage_text_frames_get_an_error_frame_and_change_nothing(fuzz, frame):
    assert_served_as_documented(fuzz, frame)


@settings(SETTINGS, max_examples=20)
@given(
    depth=st.integers(MAX_JSON_DEPTH - 2, MAX_JSON_DEPTH + 2) | st.integers(900, 4000),
    action=st.sampled_from([*ACTIONS, "dance"]),
    opener=st.sampled_from(["[", '{"a":']),
)
def test_deeply_nested_frames_get_an_error_frame_and_change_nothing(fuzz, depth, action, opener):
    assert_served_as_documented(fuzz, deep_frame(depth, action, opener))


def _frame_of_size(action: str, size: int) -> str:
    frame = json.dumps({"action": action, "id": ""})
    return frame.replace('""', '"' + "x" * (size - len(frame)) + '"')


@settings(SETTINGS, max_examples=4)
@given(size=st.integers(HANDLER_FRAME_LIMIT - 64, HANDLER_FRAME_LIMIT + 64), action=st.sampled_from(ACTIONS))
def test_frames_around_the_handlers_4_kb_get_frame_too_large_over_it(fuzz, size, action):
    assert_served_as_documented(fuzz, _frame_of_size(action, size))


@pytest.mark.needs("websocket_frame_checks")
@settings(SETTINGS, max_examples=4)
@given(
    size=st.integers(API_GATEWAY_FRAME_LIMIT - 64, API_GATEWAY_FRAME_LIMIT + 64),
    action=st.sampled_from(ACTIONS),
)
def test_frames_around_api_gateways_32_kb_get_a_1009_close_over_it(fuzz, size, action):
    assert_served_as_documented(fuzz, _frame_of_size(action, size))


@pytest.mark.needs("websocket_frame_checks")
@settings(SETTINGS, max_examples=6)
@given(frame=st.binary(max_size=64) | st.sampled_from([b'{"action":"ping"}', b"\xff\xfe"]))
def test_binary_frames_close_the_connection_with_1003(fuzz, frame):
    assert_served_as_documented(fuzz, frame)


# --- the findings, one by one -------------------------------------------------------------------


def test_the_issues_deep_frame_gets_an_error_frame(fuzz):
    # 12 KB, 2,000 objects deep: no answer at all before (route selection's json.loads raised).
    frame = '{"a":' * 2000 + "1" + "}" * 2000
    assert expected_outcome(frame) == "error:frame_too_large"
    assert_served_as_documented(fuzz, frame)


def test_a_deep_frame_within_4_kb_gets_malformed_frame(fuzz):
    # 1,500 levels in under 4 KB reached the handler's json.loads: RecursionError, no answer.
    player, _ = fuzz
    outcome, answer = player.exchange('{"action":"ping","x":' + "[" * 1500 + "]" * 1500 + "}")
    assert outcome == "error:malformed_frame"
    assert answer is not None and answer["message"] == "the frame is nested deeper than 32 levels"


@pytest.mark.parametrize("action", ["joinQueue", "requeue", "ping"])
def test_a_lone_surrogate_makes_an_otherwise_valid_frame_invalid(fuzz, action):
    field = "id" if action == "ping" else "username"
    frame = json.dumps({"action": action, field: "\ud800x\udfff"})
    assert frame_validator(action).is_valid(json.loads(frame)), "the schema alone lets it through"
    assert expected_outcome(frame) == "error:invalid_frame"
    assert_served_as_documented(fuzz, frame)


@pytest.mark.needs("websocket_frame_checks")
def test_a_binary_frame_closes_with_1003_and_the_connection_is_disconnected(fuzz, stack):
    # API Gateway takes text frames only; the emulator passed binary ones to the route.
    player = FuzzPlayer(stack)
    assert player.exchange(json.dumps({"action": "ping"}))[0] == "pong"
    assert connections_of(stack, player.user_id), "connected, the player has a connection"
    assert player.exchange(b'{"action":"ping"}') == ("close:1003", None)
    # $disconnect ran, as after any close: the connection is gone from the table.
    wait_for(lambda: not connections_of(stack, player.user_id), message="the connection to be removed")
    assert player.exchange(json.dumps({"action": "ping", "id": "again"}))[0] == "pong"
    player.close()


def connections_of(stack, user_id: str) -> list[dict[str, Any]]:
    found = stack.client("dynamodb").query(
        TableName=stack.endpoints()["tables"]["connections"],
        KeyConditionExpression="userId = :u",
        ExpressionAttributeValues={":u": {"S": user_id}},
    )
    return found["Items"]


@pytest.mark.needs("websocket_frame_checks")
def test_a_text_frame_that_is_not_utf8_closes_with_1007(fuzz, stack):
    player = FuzzPlayer(stack)
    websocket = player.connection()
    websocket.send(b'{"action":"ping","id":"\xff"}', text=True)
    with pytest.raises(ConnectionClosed) as closed:
        websocket.recv(timeout=ANSWER_SECONDS)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
