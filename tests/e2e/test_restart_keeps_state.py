"""`arcadeflow up` keeps executions, their histories, the tables' items, queue messages, SSM
parameters (the signing keys) and unconsumed stream records across a restart.

One state directory, three runtimes in turn: the first runs a fan-out that succeeds, one that a
fault fails at ReadFollowerPage, and a duel invite still waiting for its answer; hands out a
token and a story cursor; leaves dead letters on the fan-out's queue (one in flight) and a
follow whose stream record its consumer has not processed; then stops cleanly on Ctrl-C
(SIGINT). The second starts on the same directory, and is later killed (SIGKILL) right after an
execution it ran and a dead letter it received are on disk; the third starts on what the killed
one left.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from arcadeflow.aws.persistence import DATABASE_FILE, RESTARTED_ERROR
from arcadeflow.faults import list_faults, set_fault
from tests.support.fanout import feed_copies, finished, history, populate, start_fanout, status_for
from tests.support.stack import RunningStack, wait_for

pytestmark = pytest.mark.e2e

FOLLOWERS = 30
INJECTED = "Arcadeflow.InjectedFault"


@dataclass
class BeforeRestart:
    celebrity: str
    followers: list[str]
    succeeded: str
    failed: str
    waiting: str
    failed_status: dict[str, Any]
    token: str = ""
    storyteller: str = ""
    story_cursor: str = ""
    second_story_page: dict[str, Any] = field(default_factory=dict)
    dead_letters: dict[str, dict[str, Any]] = field(default_factory=dict)  # body -> as received
    late_follower: str = ""
    described: dict[str, dict[str, Any]] = field(default_factory=dict)
    histories: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    listed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _start(state_dir: Path) -> RunningStack:
    return RunningStack(state_dir, ["--ttl-interval", "1"])


def _describe(stack: RunningStack, arn: str) -> dict[str, Any]:
    out = stack.client("stepfunctions").describe_execution(executionArn=arn)
    out.pop("ResponseMetadata")
    return out


def _listed(stack: RunningStack, machine: str) -> list[dict[str, Any]]:
    sfn = stack.client("stepfunctions")
    arn = stack.endpoints()["stateMachines"][machine]
    return sfn.list_executions(stateMachineArn=arn, maxResults=1000)["executions"]


def _scan(stack: RunningStack, table: str) -> list[dict[str, Any]]:
    ddb = stack.client("dynamodb")
    name = stack.endpoints()["tables"][table]
    items, request = [], {"TableName": name}
    while True:
        page = ddb.scan(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _follower_count(stack: RunningStack, user: str) -> int:
    token = stack.token(user)
    answer = requests.get(
        f"{stack.http_url}/users/{user}", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    answer.raise_for_status()
    return int(answer.json()["followerCount"])


def _stream_records(stack: RunningStack, table: str) -> int:
    """Every record on a table's stream since the runtime started."""
    ddb, streams = stack.client("dynamodb"), stack.client("dynamodbstreams")
    arn = ddb.describe_table(TableName=stack.endpoints()["tables"][table])["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return len(streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"])


def _kept_status(state_dir: Path, arn: str) -> str | None:
    """What the state directory holds for an execution now (read as a second process would)."""
    db = sqlite3.connect(f"file:{state_dir / DATABASE_FILE}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT record FROM executions WHERE arn = ?", (arn,)).fetchone()
    finally:
        db.close()
    return json.loads(row[0])["status"] if row else None


def _kept_items(state_dir: Path, table: str) -> list[dict[str, Any]]:
    db = sqlite3.connect(f"file:{state_dir / DATABASE_FILE}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT items FROM table_items WHERE table_name = ?", (table,)).fetchone()
    finally:
        db.close()
    return json.loads(row[0]) if row else []


def _kept_message_bodies(state_dir: Path, queue: str) -> list[str]:
    db = sqlite3.connect(f"file:{state_dir / DATABASE_FILE}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT messages FROM queue_messages WHERE queue_name = ?", (queue,)).fetchone()
    finally:
        db.close()
    return [m["body"] for m in json.loads(row[0])] if row else []


def _dead_letter_queue(stack: RunningStack) -> str:
    urls = stack.client("sqs").list_queues().get("QueueUrls", [])
    (url,) = [u for u in urls if u.rstrip("/").endswith("fanout-dead-letters")]
    return url


def _exists(stack: RunningStack, arn: str) -> bool:
    try:
        stack.client("stepfunctions").describe_execution(executionArn=arn)
    except stack.client("stepfunctions").exceptions.ExecutionDoesNotExist:
        return False
    return True


def _receive_all(stack: RunningStack, url: str) -> dict[str, dict[str, Any]]:
    received = stack.client("sqs").receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,  # leaves them visible: read, not consumed
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["ApproximateReceiveCount"],
    )
    return {m["Body"]: m for m in received.get("Messages", [])}


def _story(stack: RunningStack, user: str, token: str, cursor: str | None = None) -> requests.Response:
    params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
    return requests.get(
        f"{stack.http_url}/users/{user}/story",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def _leave_kept_state_besides_items(stack: RunningStack, before: BeforeRestart) -> None:
    """A token, a story cursor, dead letters (one in flight), and a follow not yet counted."""
    before.token = stack.token(before.celebrity)
    before.storyteller = f"teller{uuid.uuid4().hex[:6]}"
    teller_token = stack.token(before.storyteller)
    for post in ("the first story", "the second story"):
        answer = requests.post(
            f"{stack.http_url}/statuses",
            headers={"Authorization": f"Bearer {teller_token}"},
            json={"post": post},
            timeout=10,
        )
        assert answer.status_code == 202, answer.text
        machine = stack.endpoints()["stateMachines"]["status_fanout"]
        arn = machine.replace(":stateMachine:", ":execution:") + f":status-{answer.json()['statusId']}"
        wait_for(lambda a=arn: _exists(stack, a), message="the post's fan-out to start")
        assert finished(stack, arn)["status"] == "SUCCEEDED"
    first = _story(stack, before.storyteller, before.token)
    assert first.status_code == 200, first.text
    before.story_cursor = first.json()["nextCursor"]
    second = _story(stack, before.storyteller, before.token, before.story_cursor)
    assert second.status_code == 200, second.text
    before.second_story_page = second.json()

    sqs, url = stack.client("sqs"), _dead_letter_queue(stack)
    sqs.send_message(
        QueueUrl=url,
        MessageBody="batch 7 of a fan-out",
        MessageAttributes={"executionArn": {"DataType": "String", "StringValue": "arn:kept"}},
    )
    sqs.send_message(QueueUrl=url, MessageBody="batch 8 of a fan-out")
    before.dead_letters = _receive_all(stack, url)
    assert set(before.dead_letters) == {"batch 7 of a fan-out", "batch 8 of a fan-out"}
    # Received again and not deleted: in flight (900 s visibility timeout) when the runtime stops.
    in_flight = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=900)
    assert len(in_flight["Messages"]) == 2

    # The follow's stream record is read, and its consumer fails on it until the stop: unconsumed.
    set_fault(stack.aws_url, "follow-counts", fail_on=range(1, 100), error=INJECTED, message="not yet")
    before.late_follower = f"{before.celebrity}-just-before-stop"
    answer = requests.post(
        f"{stack.http_url}/followers",
        headers={"Authorization": f"Bearer {stack.token(before.late_follower)}"},
        json={"targetUserId": before.celebrity},
        timeout=10,
    )
    assert answer.status_code in (200, 201), answer.text
    wait_for(
        lambda: any(f["failed"] for f in list_faults(stack.aws_url) if "follow-counts" in f["function"]),
        message="follow_counts to have failed on the late follow",
    )


def _pending_invite(stack: RunningStack, invite_id: str, inviter: str, invitee: str) -> None:
    stack.client("dynamodb").put_item(
        TableName=stack.endpoints()["tables"]["invites"],
        Item={
            "inviteId": {"S": invite_id},
            "status": {"S": "pending"},
            "fromUserId": {"S": inviter},
            "toUserId": {"S": invitee},
            "expiresAt": {"S": "2099-01-01T00:00:00.000Z"},
        },
    )


def _run_before_restart(stack: RunningStack) -> BeforeRestart:
    celebrity = f"celeb{uuid.uuid4().hex[:6]}"
    followers = populate(stack, FOLLOWERS, celebrity, prefix=f"{celebrity}-f")
    wait_for(lambda: _follower_count(stack, celebrity) == FOLLOWERS, message="the follow counts", timeout=60)

    succeeded = start_fanout(stack, status_for(celebrity, "kept across restarts"))
    assert finished(stack, succeeded)["status"] == "SUCCEEDED"

    # The function's physical name ends so (arcadeflow-fanout-followers-page).
    set_fault(stack.aws_url, "fanout-followers-page", fail_on=[1], error=INJECTED, message="first page lost")
    failed_status = status_for(celebrity, "failed before the restart")
    failed = start_fanout(stack, failed_status)
    assert finished(stack, failed)["error"] == INJECTED

    invite_id = str(uuid.uuid4())
    _pending_invite(stack, invite_id, celebrity, followers[0])
    sfn = stack.client("stepfunctions")
    waiting = sfn.start_execution(
        stateMachineArn=stack.endpoints()["stateMachines"]["duel_invite"],
        name=f"invite-{invite_id}",
        input=json.dumps(
            {
                "inviteId": invite_id,
                "fromUserId": celebrity,
                "toUserId": followers[0],
                "answerWindowSeconds": 3600,
                "sessionDurationSeconds": 600,
                "sessionLeadSeconds": 2,
            }
        ),
    )["executionArn"]
    # Waiting for the answer: NotifyInvitee has kept its task token on the invite.
    wait_for(
        lambda: any(e["type"] == "TaskSubmitted" for e in history(stack, waiting)),
        message="the invite to wait for its answer",
    )
    before = BeforeRestart(celebrity, followers, succeeded, failed, waiting, failed_status)
    _leave_kept_state_besides_items(stack, before)
    for arn in (succeeded, failed, waiting):
        before.described[arn] = _describe(stack, arn)
        before.histories[arn] = history(stack, arn)
    for machine in ("status_fanout", "duel_invite"):
        before.listed[machine] = _listed(stack, machine)
    for table in ("users", "follows", "feed", "story", "invites"):
        before.items[table] = _scan(stack, table)
    # Kept on disk before the stop: the clean stop writes what is left, this proves nothing is.
    wait_for(lambda: _kept_status(stack.state_dir, waiting) == "RUNNING", message="the checkpoint")
    return before


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("kept-state")


@pytest.fixture(scope="module")
def restarted(state_dir):
    """The first runtime's work, and the second runtime started on what it kept."""
    first = _start(state_dir)
    try:
        before = _run_before_restart(first)
        first.proc.send_signal(signal.SIGINT)  # Ctrl-C
        first.proc.wait(timeout=30)
    finally:
        first.stop()
    assert first.proc.returncode == 0, "a clean stop on Ctrl-C"
    assert "state kept:" in first.log_path.read_text()
    second = _start(state_dir)
    yield before, second
    second.stop()


def test_executions_answer_as_before_the_restart(restarted):
    before, stack = restarted
    for arn in (before.succeeded, before.failed):
        assert _describe(stack, arn) == before.described[arn]
        assert history(stack, arn) == before.histories[arn]
    assert _listed(stack, "status_fanout") == before.listed["status_fanout"]
    assert _describe(stack, before.failed)["error"] == INJECTED


def test_a_running_execution_comes_back_failed_and_says_why(restarted):
    before, stack = restarted
    described = _describe(stack, before.waiting)
    assert described["status"] == "FAILED"
    assert described["error"] == RESTARTED_ERROR
    assert "stopped while this execution was running" in described["cause"]
    assert described["startDate"] == before.described[before.waiting]["startDate"]
    events = history(stack, before.waiting)
    assert events[: len(before.histories[before.waiting])] == before.histories[before.waiting]
    assert [e["type"] for e in events[len(before.histories[before.waiting]) :]] == ["ExecutionFailed"]
    listed = {e["executionArn"]: e["status"] for e in _listed(stack, "duel_invite")}
    assert listed[before.waiting] == "FAILED"


def test_items_are_kept_and_not_streamed_again(restarted):
    before, stack = restarted
    for table, items in before.items.items():
        if table == "users":  # the late follow's two counts move: see the next test
            moving = {before.celebrity, before.late_follower}
            items = [i for i in items if i["userId"]["S"] not in moving]
            assert [i for i in _scan(stack, table) if i["userId"]["S"] not in moving] == items
            continue
        assert _scan(stack, table) == items, table


def test_an_unconsumed_stream_record_is_delivered_once_after_the_restart(restarted):
    before, stack = restarted
    # The late follow's record was not consumed before the stop: it is delivered now, once; the
    # 30 consumed before are not delivered again (follow_counts reads from TRIM_HORIZON: the
    # count would double).
    wait_for(lambda: _follower_count(stack, before.celebrity) != FOLLOWERS, message="the late follow's count")
    assert _follower_count(stack, before.celebrity) == FOLLOWERS + 1
    # Restored items are not INSERTs on the stream: it holds the one unconsumed record only...
    assert _stream_records(stack, "follows") == 1
    # ... and one new follow counts once, on top of it.
    newcomer = f"{before.celebrity}-late"
    answer = requests.post(
        f"{stack.http_url}/followers",
        headers={"Authorization": f"Bearer {stack.token(newcomer)}"},
        json={"targetUserId": before.celebrity},
        timeout=10,
    )
    assert answer.status_code in (200, 201), answer.text
    wait_for(
        lambda: _follower_count(stack, before.celebrity) != FOLLOWERS + 1, message="the new follow's count"
    )
    assert _follower_count(stack, before.celebrity) == FOLLOWERS + 2


def test_a_token_and_a_cursor_handed_out_before_the_restart_still_work(restarted):
    before, stack = restarted
    # The token's key is the state directory's; the cursor's HMAC key is an SSM parameter.
    page = _story(stack, before.storyteller, before.token, before.story_cursor)
    assert page.status_code == 200, page.text
    assert page.json() == before.second_story_page


def test_dead_letters_come_back_visible_with_their_attributes_and_receive_counts(restarted):
    before, stack = restarted
    # Both are visible again, the one in flight at the stop too; received twice before.
    now = _receive_all(stack, _dead_letter_queue(stack))
    assert set(now) == set(before.dead_letters)
    for body, message in now.items():
        earlier = before.dead_letters[body]
        assert message["MessageId"] == earlier["MessageId"]
        assert message.get("MessageAttributes") == earlier.get("MessageAttributes")
        counts = (
            int(message["Attributes"]["ApproximateReceiveCount"]),
            int(earlier["Attributes"]["ApproximateReceiveCount"]),
        )
        assert counts[0] == counts[1] + 2, body


def test_the_start_says_what_it_recovered_and_that_the_stop_was_clean(restarted):
    _, stack = restarted
    (line,) = [line for line in stack.log_path.read_text().splitlines() if "restored from" in line]
    assert "last stop clean" in line
    assert "2 messages in 1 queues" in line
    assert "1 unconsumed stream records" in line


@pytest.fixture(scope="module")
def after_kill(restarted, state_dir):
    """The second runtime killed (SIGKILL) once an execution it ran is on disk; a third one."""
    before, second = restarted
    status = status_for(before.celebrity, "posted just before a kill")
    arn = start_fanout(second, status)
    assert finished(second, arn)["status"] == "SUCCEEDED"
    described = _describe(second, arn)
    copies = feed_copies(second, status["statusId"])
    assert sum(copies.values()) >= FOLLOWERS
    feed_table = second.endpoints()["tables"]["feed"]

    def kept_copies() -> int:
        return sum(i["statusId"]["S"] == status["statusId"] for i in _kept_items(state_dir, feed_table))

    wait_for(lambda: _kept_status(state_dir, arn) == "SUCCEEDED", message="the last execution's checkpoint")
    # What the restart made of the waiting invite is on disk too (not RUNNING again next time).
    assert _kept_status(state_dir, before.waiting) == "FAILED"
    url = _dead_letter_queue(second)
    second.client("sqs").send_message(QueueUrl=url, MessageBody="batch 9, dead-lettered just before a kill")
    queue = url.rstrip("/").rsplit("/", 1)[1]
    wait_for(
        lambda: "batch 9, dead-lettered just before a kill" in _kept_message_bodies(state_dir, queue),
        message="the dead letter's snapshot",
    )
    # Items are snapshotted every 2 s: wait for the one holding this fan-out's feed items.
    wait_for(lambda: kept_copies() == sum(copies.values()), message="the feed table's snapshot")
    second.proc.send_signal(signal.SIGKILL)
    second.proc.wait(timeout=20)
    db = sqlite3.connect(f"file:{state_dir / DATABASE_FILE}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",), "a kill never corrupts"
    finally:
        db.close()
    third = _start(state_dir)
    yield before, third, arn, described, status, copies
    third.stop()


def test_a_killed_runtime_keeps_what_it_had_checkpointed(after_kill):
    before, stack, arn, described, status, copies = after_kill
    assert _describe(stack, arn) == described
    assert feed_copies(stack, status["statusId"]) == copies
    kept = {e["executionArn"] for e in _listed(stack, "status_fanout")}
    assert {before.succeeded, before.failed, arn} <= kept
    bodies = set(_receive_all(stack, _dead_letter_queue(stack)))
    assert bodies == set(before.dead_letters) | {"batch 9, dead-lettered just before a kill"}
    (line,) = [line for line in stack.log_path.read_text().splitlines() if "restored from" in line]
    assert "last stop NOT clean" in line


def test_an_execution_failed_before_a_restart_is_redriven_and_succeeds(after_kill):
    before, stack, *_ = after_kill
    sfn = stack.client("stepfunctions")
    assert not feed_copies(stack, before.failed_status["statusId"])
    sfn.redrive_execution(executionArn=before.failed, clientToken=str(uuid.uuid4()))
    described = finished(stack, before.failed)
    assert described["status"] == "SUCCEEDED", described
    assert described["redriveCount"] == 1
    assert described["executionArn"] == before.failed
    events = history(stack, before.failed)
    assert events[: len(before.histories[before.failed])] == before.histories[before.failed]
    assert "ExecutionRedriven" in [e["type"] for e in events]
    # Every follower got the post that failed before the restart, once (and whoever followed
    # since the restart, as the redriven ReadFollowerPage reads the followers of now).
    copies = feed_copies(stack, before.failed_status["statusId"])
    assert set(before.followers) <= set(copies)
    assert set(copies.values()) == {1}
