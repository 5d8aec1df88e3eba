"""What the embedded AWS keeps across restarts: executions with their histories, table items,
queue messages, SSM parameters, unconsumed stream records with their consumers' positions, and
the resources created over the API (a journal of control-plane calls, replayed at start).

moto keeps everything in memory, so stopping `arcadeflow up` used to lose every execution and
every item. Here both live in one SQLite database under the state directory
(`<state dir>/runtime-state.sqlite3`, WAL journal):

- Executions are checkpointed every `interval` seconds (0.25 s by default) by a thread that
  compares each execution's cheap fingerprint (status, stop date, error, number of history
  events) with what it last wrote, and appends only the new history events. Polling the
  backend, rather than hooking moto's interpreter, follows whatever changes an execution
  (the interpreter, StopExecution, RedriveExecution) without knowing who did it. A killed
  runtime loses at most the last interval; each checkpoint is one transaction, so the database
  never holds half of one.
- Table items are snapshotted per table, only for tables written since their last snapshot (the
  write version of moto_patches.dynamodb_speed), every `table_interval` seconds (2 s; longer
  when a snapshot is expensive, see SNAPSHOT_CPU_FACTOR) and at a clean stop; the item list is
  copied under the DynamoDB write lock, so a snapshot is one moment of the table. Measured
  (benchmarks/persistence_overhead.py): ~0.25 s of CPU for the checkpoints of ~330 execution
  writes, ~1.3 s for the snapshots while 3,000 users, follows and feed items were written.

On start, after the deployer has created the tables and state machines and before the event
source pollers, TTL reaper and HTTP APIs start, both are restored: items are put with the
table's stream switched off, so no consumer sees them again as INSERTs; executions come back
under their ARNs, with the definition they started with and their whole history, so
ListExecutions, DescribeExecution and GetExecutionHistory answer as before the restart.

Queue messages, parameters and stream records (ServiceSnapshots) are written on the table
snapshots' tick when their fingerprint changed; the API journal (ApiJournal) as each call
succeeds. The database has a format version (FORMAT_VERSION, in its meta table) and a flag set
while a runtime runs, so each start can say whether the last stop was clean.

An execution that was RUNNING when the runtime stopped cannot continue: its interpreter thread
is gone. It comes back FAILED with error `Arcadeflow.RuntimeRestarted` (and an ExecutionFailed
event closing its history), so it shows up with the failed ones and can be redriven: a redrive
re-runs the states that had not finished.
"""

from __future__ import annotations

import base64
import copy
import datetime
import json
import logging
import re
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("arcadeflow.persistence")

DATABASE_FILE = "runtime-state.sqlite3"
RESTARTED_ERROR = "Arcadeflow.RuntimeRestarted"
RESTARTED_CAUSE = (
    "arcadeflow up stopped while this execution was running (last recorded event: {last}); "
    "an execution's interpreter cannot resume after a restart. Redrive it to re-run the states "
    "that had not finished, or replay it."
)
# Table snapshots wait at least this many times their own CPU cost before the next one.
SNAPSHOT_CPU_FACTOR = 10
FINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    arn TEXT PRIMARY KEY,
    state_machine_arn TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS history_events (
    arn TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (arn, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS table_items (
    table_name TEXT PRIMARY KEY,
    items TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS queue_messages (
    queue_name TEXT PRIMARY KEY,
    messages TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS parameters (
    name TEXT PRIMARY KEY,
    versions TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request TEXT NOT NULL,
    body BLOB NOT NULL,
    created_ids TEXT
);
CREATE TABLE IF NOT EXISTS stream_records (
    table_name TEXT PRIMARY KEY,
    records TEXT NOT NULL,
    positions TEXT NOT NULL
);
"""
# The state directory's format. 1: executions, history events and table items (issue 11).
# 2: + meta (this version, whether the last stop was clean), queue messages, SSM parameters,
# unconsumed stream records and the consumers' positions, the journal of control-plane calls.
# Version 1 is migrated by adding the new tables (nothing it holds changes meaning); a newer
# one is refused, untouched.
FORMAT_VERSION = 2
OLDEST_READABLE_VERSION = 1


class StateFormatError(ValueError):
    """The state directory was written in a format this arcadeflow does not read."""


def _iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _bytes_hook(value: dict[str, Any]) -> Any:
    return base64.b64decode(value[_BYTES]) if len(value) == 1 and _BYTES in value else value


def _from_iso(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value else None


_BYTES = "__arcadeflow_bytes__"


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):  # binary attributes (B, BS): moto keeps them as bytes
        return {_BYTES: base64.b64encode(value).decode()}
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if hasattr(value, "value"):  # str-valued enums of moto's API shapes
        return value.value
    raise TypeError(f"cannot keep a {type(value).__name__} in the state directory")


class StateStore:
    """The runtime's SQLite database: one writer (the checkpointer), readers at restore."""

    def __init__(self, state_dir: Path):
        self.path = Path(state_dir) / DATABASE_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared under a lock: writes come from the checkpointer thread and from
        # stop(), which runs on the main thread.
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL: a committed transaction survives a killed process (not a power cut), at a
        # fraction of FULL's fsyncs.
        self._db.execute("PRAGMA synchronous=NORMAL")
        # Read before anything is written: a newer format is refused untouched.
        self.found_version = self._format_version()
        if self.found_version is not None and self.found_version > FORMAT_VERSION:
            self._db.close()
            raise StateFormatError(
                f"{self.path} is in state format version {self.found_version}, written by a newer "
                f"arcadeflow; this one reads versions {OLDEST_READABLE_VERSION} to {FORMAT_VERSION}. "
                "Upgrade arcadeflow, or start with --fresh to forget what it kept."
            )
        self._db.executescript(_SCHEMA)  # version 1 -> 2 adds tables only
        with self.transaction() as db:
            previous = db.execute("SELECT value FROM meta WHERE key = 'running'").fetchone()
            # None: a new state directory; "1": the last runtime never reached a clean stop.
            self.last_stop_clean: bool | None = None if previous is None else previous[0] == "0"
            db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [("format_version", str(FORMAT_VERSION)), ("running", "1")],
            )
        found = self.found_version
        self.migrated_from = found if found is not None and found < FORMAT_VERSION else None
        if self.migrated_from is not None:
            log.info(
                "state directory %s migrated from format version %d to %d",
                self.path,
                self.migrated_from,
                FORMAT_VERSION,
            )
        if self.found_version == 1:  # version 1 had no clean-stop flag
            self.last_stop_clean = None

    def _format_version(self) -> int | None:
        """The format of what is in the database; None when it holds nothing yet."""
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "meta" in tables:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'format_version'").fetchone()
            if row is not None:
                return int(row[0])
        # Version 1 wrote these three tables and no meta table.
        return 1 if "executions" in tables else None

    @staticmethod
    def wipe(state_dir: Path) -> None:
        """`arcadeflow up --fresh`: forget everything kept."""
        for suffix in ("", "-wal", "-shm"):
            (Path(state_dir) / (DATABASE_FILE + suffix)).unlink(missing_ok=True)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self, clean: bool = True) -> None:
        """clean: everything is written; the next start says the last stop was clean."""
        with self._lock:
            if clean:
                self._db.execute("UPDATE meta SET value = '0' WHERE key = 'running'")
            self._db.close()

    # --- executions -------------------------------------------------------------------------

    def save_execution(
        self,
        db: sqlite3.Connection,
        record: dict[str, Any],
        new_events: list[dict[str, Any]],
        replace_history: bool,
    ) -> None:
        arn = record["executionArn"]
        db.execute(
            "INSERT INTO executions (arn, state_machine_arn, record) VALUES (?, ?, ?) "
            "ON CONFLICT(arn) DO UPDATE SET record = excluded.record",
            (arn, record["stateMachineArn"], json.dumps(record, default=_json_default)),
        )
        if replace_history:
            db.execute("DELETE FROM history_events WHERE arn = ?", (arn,))
        db.executemany(
            "INSERT OR REPLACE INTO history_events (arn, event_id, event) VALUES (?, ?, ?)",
            [(arn, int(e["id"]), json.dumps(e, default=_json_default)) for e in new_events],
        )

    def executions(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT record FROM executions").fetchall()
        return [json.loads(r[0]) for r in rows]

    def history(self, arn: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT event FROM history_events WHERE arn = ? ORDER BY event_id", (arn,)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    # --- table items ------------------------------------------------------------------------

    def save_table(self, table_name: str, items: list[dict[str, Any]]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO table_items (table_name, items) VALUES (?, ?) "
                "ON CONFLICT(table_name) DO UPDATE SET items = excluded.items",
                (table_name, json.dumps(items, default=_json_default)),
            )

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            rows = self._db.execute("SELECT table_name, items FROM table_items").fetchall()
        return {name: json.loads(items, object_hook=_bytes_hook) for name, items in rows}

    # --- queue messages, parameters, stream records -------------------------------------------

    def save_rows(self, table: str, rows: dict[str, tuple[Any, ...]]) -> None:
        """Replaces the rows of one of the keyed tables below (key -> JSON values), in one go."""
        columns = _KEYED[table]
        marks = ", ".join("?" for _ in columns)
        with self.transaction() as db:
            db.executemany(
                f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                [
                    (key, *(json.dumps(v, default=_json_default) for v in values))
                    for key, values in rows.items()
                ],
            )

    def delete_rows(self, table: str, keys: list[str]) -> None:
        with self.transaction() as db:
            db.executemany(f"DELETE FROM {table} WHERE {_KEYED[table][0]} = ?", [(k,) for k in keys])

    def rows(self, table: str) -> dict[str, tuple[Any, ...]]:
        columns = _KEYED[table]
        with self._lock:
            found = self._db.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
        return {r[0]: tuple(json.loads(v, object_hook=_bytes_hook) for v in r[1:]) for r in found}

    def append_journal(self, request: dict[str, Any], body: bytes, created_ids: dict[str, str]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO api_journal (request, body, created_ids) VALUES (?, ?, ?)",
                (json.dumps(request), body, json.dumps(created_ids)),
            )

    def journal(self) -> list[tuple[dict[str, Any], bytes, dict[str, str]]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT request, body, created_ids FROM api_journal ORDER BY seq"
            ).fetchall()
        return [(json.loads(r), bytes(b), json.loads(i or "{}")) for r, b, i in rows]


# Key column first.
_KEYED = {
    "queue_messages": ("queue_name", "messages"),
    "parameters": ("name", "versions"),
    "stream_records": ("table_name", "records", "positions"),
}


# --- executions: what is read from moto, and put back ---------------------------------------


def _history_list(execution: Any) -> tuple[Any, list[dict[str, Any]]] | None:
    """The live history list of an execution and its mutex (None before its environment exists)."""
    worker = getattr(execution, "exec_worker", None)
    env = getattr(worker, "env", None)
    manager = getattr(env, "event_manager", None)
    if manager is None:
        return None
    return manager._mutex, manager._history_event_list


def _redrives(execution: Any) -> tuple[int, str | None]:
    """(redrive count, last redrive's date) as the history records them: one ExecutionRedriven
    event per redrive, as on AWS (the redrive patch reads them the same way)."""
    found = _history_list(execution)
    if found is None:
        return 0, None
    mutex, live = found
    with mutex:
        redriven = [e for e in live if e["type"] == "ExecutionRedriven"]
    if not redriven:
        return 0, None
    last = redriven[-1]["timestamp"]
    return len(redriven), last.isoformat() if isinstance(last, datetime.datetime) else str(last)


def execution_record(execution: Any) -> dict[str, Any]:
    """Everything DescribeExecution, ListExecutions and a redrive read from an execution."""
    machine = execution.state_machine
    output = execution.output
    record: dict[str, Any] = {
        "executionArn": execution.exec_arn,
        "stateMachineArn": execution.state_machine_arn,
        "name": execution.name,
        "type": getattr(execution.sm_type, "value", execution.sm_type),
        "roleArn": execution.role_arn,
        "definition": machine.definition,
        "input": execution.execution_input,
        "traceHeader": execution.trace_header,
        "status": execution.status,
        "startDate": _iso(execution.start_date),
        "stopDate": _iso(execution.stop_date),
        "output": None if output is None else json.dumps(output, default=_json_default),
        "error": execution.error,
        "cause": execution.cause,
    }
    record["redriveCount"], record["redriveDate"] = _redrives(execution)
    return record


def _fingerprint(execution: Any, events: int) -> tuple[Any, ...]:
    return (
        execution.status,
        execution.stop_date,
        events,  # a redrive appends its ExecutionRedriven event: counted here
        execution.error,
        execution.cause,
    )


def parser_backend(region: str) -> Any:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    from arcadeflow.aws.embedded import ACCOUNT_ID

    return stepfunctions_parser_backends[ACCOUNT_ID][region]


@dataclass
class _Saved:
    fingerprint: tuple[Any, ...]
    events: int
    last_event_id: int


@dataclass
class CheckpointStats:
    checkpoints: int = 0
    executions_written: int = 0
    events_written: int = 0
    cpu_seconds: float = 0.0  # CPU time spent checkpointing, summed (thread time)


class ExecutionCheckpointer:
    """Writes what changed in the embedded Step Functions' executions, every `interval` s."""

    def __init__(self, store: StateStore, region: str, interval: float = 0.25):
        self.store = store
        self.region = region
        self.interval = interval
        self.stats = CheckpointStats()
        self._saved: dict[str, _Saved] = {}
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._checkpoint_lock = threading.Lock()

    def mark_saved(self, execution: Any) -> None:
        """A restored execution is on disk as it is now: nothing to write until it changes."""
        found = _history_list(execution)
        events = len(found[1]) if found else 0
        last = int(found[1][-1]["id"]) if found and found[1] else 0
        self._saved[execution.exec_arn] = _Saved(_fingerprint(execution, events), events, last)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="execution-checkpointer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                self.checkpoint()
            except Exception:  # a failed checkpoint must not end checkpointing
                log.exception("execution checkpoint failed")

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.checkpoint()  # whatever happened since the last tick

    def checkpoint(self) -> int:
        """One pass over every execution; returns how many were written."""
        with self._checkpoint_lock:
            started = time.thread_time()
            changes = list(self._changes())
            if changes:
                with self.store.transaction() as db:
                    for record, new_events, replace, _ in changes:
                        self.store.save_execution(db, record, new_events, replace)
                for record, new_events, _, saved in changes:
                    self._saved[record["executionArn"]] = saved
                    self.stats.events_written += len(new_events)
                self.stats.executions_written += len(changes)
            self.stats.checkpoints += 1
            self.stats.cpu_seconds += time.thread_time() - started
            return len(changes)

    def _changes(self) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]], bool, _Saved]]:
        """(record, events to append, whether they replace the kept history, what is then kept)."""
        backend = parser_backend(self.region)
        for machine in list(backend.state_machines):
            for execution in list(machine.executions):
                if execution.exec_status is None:
                    continue  # not started yet: the next pass sees it
                saved = self._saved.get(execution.exec_arn)
                found = _history_list(execution)
                if found is None:  # started, its environment not built yet
                    fingerprint = _fingerprint(execution, 0)
                    if saved is None or saved.fingerprint != fingerprint:
                        yield execution_record(execution), [], True, _Saved(fingerprint, 0, 0)
                    continue
                mutex, live = found
                with mutex:  # the interpreter appends under it
                    count = len(live)
                    fingerprint = _fingerprint(execution, count)
                    if saved is not None and saved.fingerprint == fingerprint:
                        continue
                    # Append-only, unless the history was rewritten meanwhile (shorter now, or
                    # another event where the last kept one was).
                    appends = saved is not None and (
                        saved.events == 0
                        or (
                            saved.events <= count and int(live[saved.events - 1]["id"]) == saved.last_event_id
                        )
                    )
                    start = saved.events if appends and saved is not None else 0
                    new_events = copy.deepcopy(live[start:count])
                    last_id = int(live[count - 1]["id"]) if count else 0
                kept = _Saved(fingerprint, count, last_id)
                yield execution_record(execution), new_events, not appends, kept


@dataclass
class RestoreReport:
    executions: int = 0
    restarted: list[str] = field(default_factory=list)  # ARNs that were RUNNING
    skipped: dict[str, str] = field(default_factory=dict)  # ARN -> why it stays on disk only
    items: int = 0
    tables: int = 0
    messages: int = 0
    queues: int = 0
    parameters: int = 0
    stream_records: int = 0
    api_calls: int = 0  # resources made over the API: calls replayed
    api_calls_failed: int = 0


def restore_executions(store: StateStore, region: str, report: RestoreReport) -> list[Any]:
    """Puts every kept execution back into the embedded Step Functions; returns them."""
    backend = parser_backend(region)
    machines = {m.arn: m for m in backend.state_machines}
    restored = []
    for record in sorted(store.executions(), key=lambda r: r["startDate"]):
        arn = record["executionArn"]
        machine = machines.get(record["stateMachineArn"])
        if machine is None:
            report.skipped[arn] = f"its state machine {record['stateMachineArn']} does not exist now"
            continue
        if any(e.execution_arn == arn for e in machine.executions):
            report.skipped[arn] = "an execution with this ARN exists already"
            continue
        execution = _rebuild_execution(machine, record, store.history(arn), report)
        machine.executions.append(execution)
        restored.append(execution)
        report.executions += 1
    return restored


def _rebuild_execution(
    machine: Any, record: dict[str, Any], events: list[dict[str, Any]], report: RestoreReport
) -> Any:
    from moto.core.utils import iso_8601_datetime_with_milliseconds
    from moto.stepfunctions.parser.api import ExecutionStatus, StateMachineType
    from moto.stepfunctions.parser.backend.execution import Execution

    # The execution keeps the definition it started with, whatever the deployer deployed since
    # (as on AWS, where an execution runs, and is redriven, on its own version).
    clone = copy.deepcopy(machine, {id(machine.executions): [], id(machine.backend): machine.backend})
    clone.definition = record["definition"]
    execution = Execution(
        name=record["name"],
        sm_type=StateMachineType(record.get("type") or "STANDARD"),
        role_arn=record["roleArn"],
        exec_arn=record["executionArn"],
        account_id=machine.backend.account_id,
        region_name=machine.backend.region_name,
        state_machine=clone,
        start_date=datetime.datetime.fromisoformat(record["startDate"]),
        cloud_watch_logging_session=None,
        activity_store={},
        input_data=record["input"] or "{}",
        trace_header=record.get("traceHeader"),
    )
    execution.exec_status = ExecutionStatus(record["status"])
    execution.stop_date = _from_iso(record.get("stopDate"))
    execution.output = None if record.get("output") is None else json.loads(record["output"])
    execution.error = record.get("error")
    execution.cause = record.get("cause")
    # A worker that never runs, with a real environment holding the history: the execution then
    # answers every API (history, task tokens, map runs) as a finished live one does.
    worker = execution._get_start_execution_worker()
    worker.env = worker._get_evaluation_environment()
    manager: Any = worker.env.event_manager  # moto types events as TypedDicts; ours are JSON
    manager._history_event_list.extend(events)
    manager._event_id_gen._next_id = (int(events[-1]["id"]) if events else 0) + 1
    execution.exec_worker = worker
    if record["status"] not in FINAL_STATUSES:
        now = datetime.datetime.now(tz=datetime.UTC)
        last = events[-1]["timestamp"] if events else record["startDate"]
        cause = RESTARTED_CAUSE.format(last=last)
        execution.exec_status = ExecutionStatus.FAILED
        execution.stop_date = now
        execution.error, execution.cause = RESTARTED_ERROR, cause
        manager._history_event_list.append(
            {
                "id": manager._event_id_gen.get(),
                "previousEventId": int(events[-1]["id"]) if events else 0,
                "type": "ExecutionFailed",
                "timestamp": iso_8601_datetime_with_milliseconds(now),
                "executionFailedEventDetails": {"error": RESTARTED_ERROR, "cause": cause},
            }
        )
        report.restarted.append(record["executionArn"])
    return execution


# --- table items -----------------------------------------------------------------------------


class TableSnapshots:
    """Keeps every table's items: a snapshot of each table written since its last one."""

    def __init__(
        self, store: StateStore, region: str, interval: float = 2.0, services: ServiceSnapshots | None = None
    ):
        self.store = store
        self.region = region
        self.interval = interval
        # Queue messages, parameters and stream records: kept on the same tick.
        self.services = services
        self._versions: dict[str, int] = {}
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.cpu_seconds = 0.0  # CPU time spent snapshotting, summed (thread time)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="table-snapshots", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        wait = self.interval
        while not self._stopped.wait(wait):
            try:
                before = self.cpu_seconds
                self.snapshot()
                # A snapshot costs what the written tables hold: the next one waits at least
                # SNAPSHOT_CPU_FACTOR times as long, so snapshots take at most ~1/FACTOR of a core.
                wait = max(self.interval, SNAPSHOT_CPU_FACTOR * (self.cpu_seconds - before))
            except Exception:
                log.exception("table snapshot failed")

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.snapshot()

    def snapshot(self) -> int:
        """Writes the tables written since their last snapshot; returns how many."""
        from arcadeflow.aws.embedded import dynamodb_backend
        from arcadeflow.aws.moto_patches.dynamodb_atomic_writes import dynamodb_write_lock
        from arcadeflow.aws.moto_patches.dynamodb_speed import table_version

        with self._lock:
            started = time.thread_time()
            written = 0
            for name, table in list(dynamodb_backend(self.region).tables.items()):
                version = table_version(table)
                if self._versions.get(name) == version:
                    continue
                # The item list is copied under the write lock (every write takes it, the TTL
                # reaper too): the table at one moment, writes held up only for the copy.
                # Serialised outside it; a nested attribute updated in place meanwhile bumps the
                # version, so the next snapshot has it.
                with dynamodb_write_lock:
                    version = table_version(table)
                    attributes = [dict(item.attrs) for item in _table_items(table)]
                self.store.save_table(name, [{k: _plain(v) for k, v in a.items()} for a in attributes])
                self._versions[name] = version
                written += 1
            if self.services is not None:
                written += self.services.snapshot()
            self.cpu_seconds += time.thread_time() - started
            return written

    def mark_saved(self) -> None:
        """Just restored: what is in the tables is what is on disk."""
        from arcadeflow.aws.embedded import dynamodb_backend
        from arcadeflow.aws.moto_patches.dynamodb_speed import table_version

        for name, table in dynamodb_backend(self.region).tables.items():
            self._versions[name] = table_version(table)
        if self.services is not None:
            # Written, not just marked: what this start made itself (the deployer's new signing
            # keys, on a new state directory) is on disk from the start.
            self.services.snapshot()


def _table_items(table: Any) -> list[Any]:
    partitions = list(table.items.values())
    if not table.range_key_attr:
        return partitions
    return [item for partition in partitions for item in list(partition.values())]


def _plain(value: Any) -> Any:
    """A moto attribute value as DynamoDB JSON ({"S": "x"}, {"M": {...}}), as the wire carries it."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    if isinstance(value, DynamoType):
        return {value.type: _plain(value.value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def restore_tables(store: StateStore, region: str, report: RestoreReport) -> None:
    """Puts the kept items back into the tables that exist now, without stream records."""
    from arcadeflow.aws.embedded import dynamodb_backend

    backend = dynamodb_backend(region)
    for name, items in store.tables().items():
        table = backend.tables.get(name)
        if table is None:
            log.warning("%d kept items of %s not restored: the table does not exist now", len(items), name)
            continue
        # Restored items were streamed when they were written: consumers must not see them again.
        shard, table.stream_shard = getattr(table, "stream_shard", None), None
        try:
            for item in items:
                backend.put_item(name, item)
        finally:
            table.stream_shard = shard
        report.items += len(items)
        report.tables += 1


# --- queue messages, SSM parameters, stream records ------------------------------------------


def _sqs_backend(region: str) -> Any:
    from moto.sqs.models import sqs_backends

    from arcadeflow.aws.embedded import ACCOUNT_ID

    return sqs_backends[ACCOUNT_ID][region]


def _ssm_parameters(region: str) -> Any:
    from moto.ssm.models import ssm_backends

    from arcadeflow.aws.embedded import ACCOUNT_ID

    return ssm_backends[ACCOUNT_ID][region]._parameters


# What a message is besides its place in the queue. Not kept: its receipt handles and when it
# becomes visible, so a message in flight at the stop is visible again at the start (as one
# whose consumer died is on AWS once its visibility timeout ends); its receive count is kept, so
# the redrive policy still moves it to the dead-letter queue after maxReceiveCount receives.
_MESSAGE_FIELDS = (
    "id",
    "body",
    "message_attributes",
    "sender_id",
    "sent_timestamp",
    "approximate_first_receive_timestamp",
    "approximate_receive_count",
    "deduplication_id",
    "group_id",
    "sequence_number",
    "delayed_until",
    "system_attributes",
)


def _queue_fingerprint(messages: list[Any]) -> int:
    return hash(tuple((m.id, m.approximate_receive_count) for m in messages))


def _parameter_versions(versions: list[Any]) -> list[dict[str, Any]]:
    out = []
    for version in versions:
        fields = {k: v for k, v in vars(version).items() if k != "account_id"}
        fields["last_modified_date"] = _iso(fields.get("last_modified_date"))
        out.append(fields)
    return out


def _stream_fingerprint(shard: Any, positions: dict[str, int]) -> tuple[Any, ...]:
    return (id(shard), len(shard.items), tuple(sorted(positions.items())))


class _KeptStreamRecord:
    """A stream record that outlived its runtime: moto's StreamRecord answers with to_json() only."""

    def __init__(self, record: dict[str, Any]):
        self.record = record

    def to_json(self) -> dict[str, Any]:
        return self.record


class ServiceSnapshots:
    """Keeps what else a runtime holds: queue messages, SSM parameters, unconsumed stream records.

    Each is written when it changed since its last snapshot (a cheap fingerprint: message ids and
    receive counts; parameter versions; stream length and consumer positions), on the table
    snapshots' tick and at a clean stop. `stream_positions` says, per table, how far each of its
    stream's consumers (by function ARN) has read: records every consumer has read are not kept.
    """

    def __init__(
        self,
        store: StateStore,
        region: str,
        stream_positions: Callable[[], dict[str, dict[str, int]]] | None = None,
    ):
        self.store = store
        self.region = region
        self.stream_positions = stream_positions or dict
        self._kept: dict[tuple[str, str], Any] = {}
        self.cpu_seconds = 0.0

    def snapshot(self) -> int:
        """Writes what changed; returns how many queues, parameters and streams it wrote."""
        started = time.thread_time()
        written = 0
        for kind, current in (
            ("queue_messages", self._queues()),
            ("parameters", self._parameters()),
            ("stream_records", self._streams()),
        ):
            changed = {
                key: values
                for key, (print_, values) in current.items()
                if self._kept.get((kind, key)) != print_
            }
            gone = [key for (k, key) in self._kept if k == kind and key not in current]
            if changed:
                self.store.save_rows(kind, {key: values() for key, values in changed.items()})
            if gone:
                self.store.delete_rows(kind, gone)
            for key in gone:
                del self._kept[(kind, key)]
            for key, (print_, _) in current.items():
                self._kept[(kind, key)] = print_
            written += len(changed) + len(gone)
        self.cpu_seconds += time.thread_time() - started
        return written

    # Each returns key -> (fingerprint, a function giving the row's values to write).

    def _queues(self) -> dict[str, tuple[Any, Any]]:
        out: dict[str, tuple[Any, Any]] = {}
        for name, queue in list(_sqs_backend(self.region).queues.items()):
            with queue._messages_lock:
                messages = list(queue._messages)
            out[name] = (
                _queue_fingerprint(messages),
                lambda m=messages: ([{f: getattr(x, f) for f in _MESSAGE_FIELDS} for x in m],),
            )
        return out

    def _parameters(self) -> dict[str, tuple[Any, Any]]:
        out: dict[str, tuple[Any, Any]] = {}
        for name, versions in list(dict.items(_ssm_parameters(self.region))):
            if name.startswith("/aws/") or not versions:  # moto's public parameters
                continue
            versions = list(versions)
            out[name] = (
                (len(versions), versions[-1].version, versions[-1].value),
                lambda v=versions: (_parameter_versions(v),),
            )
        return out

    def _streams(self) -> dict[str, tuple[Any, Any]]:
        from arcadeflow.aws.embedded import dynamodb_backend

        out: dict[str, tuple[Any, Any]] = {}
        positions = self.stream_positions()
        for name, table in list(dynamodb_backend(self.region).tables.items()):
            shard = getattr(table, "stream_shard", None)
            if shard is None:
                continue
            consumers = dict(positions.get(name, {}))
            items = list(shard.items)
            # Positions count from the shard's first record ever; when the 24-hour retention
            # (moto_patches/dynamodb_stream_retention.py) has trimmed the head, the records held
            # start that many later.
            trimmed = int(getattr(shard, "arcadeflow_trimmed", 0))
            read_by_all = min(consumers.values(), default=trimmed + len(items))
            unread_from = max(0, read_by_all - trimmed)
            consumers = {arn: max(p, trimmed) for arn, p in consumers.items()}
            out[name] = (
                _stream_fingerprint(shard, consumers),
                lambda i=items[unread_from:], c=consumers, u=unread_from + trimmed: (
                    [r.to_json() for r in i],
                    {arn: p - u for arn, p in c.items()},
                ),
            )
        return out


def restore_queue_messages(store: StateStore, region: str, report: RestoreReport) -> None:
    """Puts kept messages back, in their order, visible, with their receive counts."""
    from moto.sqs.models import Message

    backend = _sqs_backend(region)
    for name, (messages,) in store.rows("queue_messages").items():
        queue = backend.queues.get(name)
        if queue is None:
            if messages:
                log.warning("%d kept messages of %s not restored: no such queue now", len(messages), name)
            continue
        rebuilt = []
        for fields in messages:
            message = Message(fields["id"], fields["body"])
            for key in _MESSAGE_FIELDS[2:]:
                setattr(message, key, fields.get(key))
            message.message_attributes = message.message_attributes or {}
            message.system_attributes = message.system_attributes or {}
            message.approximate_receive_count = int(message.approximate_receive_count or 0)
            message.delayed_until = float(message.delayed_until or 0.0)
            rebuilt.append(message)
        with queue._messages_lock:
            queue._messages[:0] = rebuilt
            queue._messages_lock.notify_all()
        report.messages += len(rebuilt)
        report.queues += bool(rebuilt)


def restore_parameters(store: StateStore, region: str, report: RestoreReport) -> None:
    """Puts kept SSM parameters back with all their versions, replacing any made at this start:
    the signing keys of before the restart keep their tokens and cursors valid."""
    from moto.ssm.models import Parameter

    from arcadeflow.aws.embedded import ACCOUNT_ID

    parameters = _ssm_parameters(region)
    for name, (versions,) in store.rows("parameters").items():
        rebuilt = []
        for fields in versions:
            parameter: Any = Parameter.__new__(Parameter)
            parameter.__dict__.update(fields)
            parameter.account_id = ACCOUNT_ID
            parameter.last_modified_date = _from_iso(fields.get("last_modified_date"))
            rebuilt.append(parameter)
        dict.__setitem__(parameters, name, rebuilt)
        report.parameters += 1


def restore_stream_records(
    store: StateStore, region: str, report: RestoreReport
) -> dict[tuple[str, str], int]:
    """Puts the records some consumer had not read back on their streams, ahead of any new one;
    returns where each consumer resumes: (table, function ARN) -> position on the shard."""
    from arcadeflow.aws.embedded import dynamodb_backend

    backend = dynamodb_backend(region)
    resume: dict[tuple[str, str], int] = {}
    for name, (records, positions) in store.rows("stream_records").items():
        table = backend.tables.get(name)
        shard = getattr(table, "stream_shard", None) if table is not None else None
        if shard is None:
            if records:
                log.warning("%d kept stream records of %s not restored: no stream now", len(records), name)
            continue
        kept = []
        for record in records:
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            if isinstance(created, str):
                record["dynamodb"]["ApproximateCreationDateTime"] = datetime.datetime.fromisoformat(created)
            kept.append(_KeptStreamRecord(record))
        shard.items[:0] = kept
        # Sequence numbers are positions on the shard (as moto numbers them): renumbered, in order.
        for index, item in enumerate(shard.items):
            item.to_json()["dynamodb"]["SequenceNumber"] = str(shard.starting_sequence_number + index)
        for arn, position in positions.items():
            resume[(name, arn)] = position
        report.stream_records += len(kept)
    return resume


# --- resources created over the API ----------------------------------------------------------

# The control-plane calls that create, change or delete a resource, by X-Amz-Target prefix (the
# JSON protocols). What they create is rebuilt at the next start by calling them again, in order.
# Not here: data-plane calls (items, messages, executions, invocations: kept above), and SSM
# (parameters are kept with their versions above).
_JOURNALED_TARGETS = {
    "DynamoDB_20120810": {
        "CreateTable",
        "UpdateTable",
        "DeleteTable",
        "UpdateTimeToLive",
        "TagResource",
        "UntagResource",
        "UpdateContinuousBackups",
    },
    "AmazonSQS": {"CreateQueue", "DeleteQueue", "SetQueueAttributes", "TagQueue", "UntagQueue"},
    "AWSStepFunctions": {
        "CreateStateMachine",
        "UpdateStateMachine",
        "DeleteStateMachine",
        "TagResource",
        "UntagResource",
    },
    "Logs_20140328": {"CreateLogGroup", "DeleteLogGroup", "PutRetentionPolicy", "TagResource"},
}
# The query protocol (IAM; SQS from older SDKs): Action=... in the form body.
_JOURNALED_ACTIONS = {"CreateQueue", "DeleteQueue", "SetQueueAttributes", "TagQueue", "UntagQueue"}
_MUTATING_PREFIXES = (
    "Create",
    "Put",
    "Attach",
    "Detach",
    "Delete",
    "Update",
    "Tag",
    "Untag",
    "Add",
    "Remove",
)
_QUERY_MUTATING_SERVICES = ("iam", "sns", "monitoring")  # monitoring: CloudWatch alarms
# REST: Lambda (functions, code, configuration, concurrency, permissions, event source
# mappings, tags) and API Gateway v2 (the APIs Terraform creates for the emulators to serve).
_JOURNALED_PATH = re.compile(r"^/(20\d\d-\d\d-\d\d/(functions|event-source-mappings|tags|layers)|v2/)")
_MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ENVIRON_KEYS = ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "SERVER_NAME", "SERVER_PORT")


def _service_of(environ: dict[str, Any]) -> str:
    """The signing service of a request (Authorization: ... Credential=KEY/DATE/REGION/SERVICE/...)."""
    scope = environ.get("HTTP_AUTHORIZATION", "").split("Credential=", 1)
    parts = scope[1].split("/") if len(scope) == 2 else []
    return parts[3] if len(parts) > 3 else ""


def journaled(environ: dict[str, Any], body: bytes) -> bool:
    """Whether a request is one the journal keeps."""
    method = environ.get("REQUEST_METHOD", "")
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        prefix, _, operation = target.partition(".")
        return operation in _JOURNALED_TARGETS.get(prefix, ())
    if method == "POST" and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        form = urllib.parse.parse_qs(body.decode(errors="replace"))
        action = (form.get("Action") or [""])[0]
        if _service_of(environ) in _QUERY_MUTATING_SERVICES:
            return action.startswith(_MUTATING_PREFIXES)
        return action in _JOURNALED_ACTIONS
    path = environ.get("PATH_INFO", "")
    if path.rstrip("/").endswith(("/invocations", "/invoke-async")):  # invocations: data plane
        return False
    return method in _MUTATING_METHODS and bool(_JOURNALED_PATH.match(path))


class ApiJournal:
    """Records the control-plane calls made over the API while the runtime runs (the resources
    of `--no-deploy` + `terraform apply`), and makes them again, in order, at the next start.

    An interceptor of the embedded AWS endpoint: a journaled call is answered by moto as usual
    and, when it succeeded, written to the state directory before its answer is returned (one
    row; such calls are few). Not recorded: the deployer's calls (the deployer makes them again
    at each start) and the replay's own. A replayed call refers to what the earlier runtime
    named: an event source mapping's stream ARN is the table's stream of now, and the ids a
    service makes up at creation (a mapping's UUID, API Gateway v2's API, route, integration and
    authorizer ids: new ones each time, as on AWS) are translated in the calls that name them.
    """

    def __init__(self, store: StateStore, aws: Any):
        self.store = store
        self.aws = aws
        self.recording = False
        self._uuids: dict[str, str] = {}  # an id made up when recorded -> its id now

    def intercept(self, environ: dict[str, Any], body: bytes) -> Any:
        if not self.recording or not journaled(environ, body):
            return None
        status, headers, payload = self._answer(environ, body)
        if 200 <= status < 300:
            request = {k: environ[k] for k in environ if _kept_environ_key(k, environ[k])}
            self.store.append_journal(request, body, _created_ids(payload))
        return status, headers, payload

    def replay(self, report: RestoreReport) -> None:
        for request, body, recorded_ids in self.store.journal():
            body = self._rewritten(request, self._translated_bytes(body))
            environ = dict(request)
            environ["PATH_INFO"] = self._translated(environ.get("PATH_INFO", ""))
            environ.setdefault("wsgi.url_scheme", "http")
            environ["SERVER_PORT"] = str(self.aws.port)
            environ["HTTP_HOST"] = f"127.0.0.1:{self.aws.port}"
            status, _, payload = self._answer(environ, body)
            if 200 <= status < 300:
                report.api_calls += 1
                now_ids = _created_ids(payload)
                for field_name, recorded in recorded_ids.items():
                    if now_ids.get(field_name) and now_ids[field_name] != recorded:
                        self._uuids[recorded] = now_ids[field_name]
            else:
                report.api_calls_failed += 1
                log.warning(
                    "replaying %s %s %s: %d %s",
                    request.get("REQUEST_METHOD"),
                    request.get("PATH_INFO"),
                    request.get("HTTP_X_AMZ_TARGET", ""),
                    status,
                    payload[:300].decode(errors="replace"),
                )

    def _answer(self, environ: dict[str, Any], body: bytes) -> Any:
        """As the endpoint answers: the interceptors after this one (moto's patches), then moto."""
        chain = self.aws.interceptors
        after = chain.index(self.intercept) + 1 if self.intercept in chain else 0
        for interceptor in chain[after:]:
            answer = interceptor(environ, body)
            if answer is not None:
                return answer
        return self.aws.forward(environ, body)

    def _translated(self, path: str) -> str:
        for old, new in self._uuids.items():
            path = path.replace(old, new)
        return path

    def _translated_bytes(self, body: bytes) -> bytes:
        """A route's target (integrations/<id>), an authorizer id: the ids of now."""
        for old, new in self._uuids.items():
            body = body.replace(old.encode(), new.encode())
        return body

    def _rewritten(self, request: dict[str, Any], body: bytes) -> bytes:
        """An event source mapping on a table's stream: the stream ARN of the table now."""
        if "/event-source-mappings" not in request.get("PATH_INFO", "") or b"/stream/" not in body:
            return body
        from arcadeflow.aws.embedded import dynamodb_backend

        try:
            fields = json.loads(body)
        except ValueError:
            return body
        arn = fields.get("EventSourceArn")
        if isinstance(arn, str) and ":table/" in arn and "/stream/" in arn:
            name = arn.split(":table/", 1)[1].split("/stream/", 1)[0]
            table = dynamodb_backend(self.aws.region).tables.get(name)
            if table is not None and getattr(table, "stream_shard", None) is not None:
                fields["EventSourceArn"] = table.describe()["TableDescription"]["LatestStreamArn"]
        return json.dumps(fields).encode()


def _kept_environ_key(key: str, value: Any) -> bool:
    return isinstance(value, str) and (key.startswith("HTTP_") or key in _ENVIRON_KEYS)


# Ids a service makes up at creation (new ones when the call is made again): an event source
# mapping's UUID, API Gateway v2's API, integration, route, authorizer and deployment ids.
_CREATED_ID_FIELDS = (
    "UUID",
    *("ApiId", "IntegrationId", "RouteId", "AuthorizerId", "DeploymentId"),
    *("apiId", "integrationId", "routeId", "authorizerId", "deploymentId"),  # API Gateway v2's REST JSON
)


def _created_ids(payload: bytes) -> dict[str, str]:
    if not any(f'"{name}"'.encode() in payload for name in _CREATED_ID_FIELDS):
        return {}
    try:
        found = json.loads(payload)
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {name: found[name] for name in _CREATED_ID_FIELDS if isinstance(found.get(name), str)}
