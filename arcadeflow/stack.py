"""The whole backend on one machine: embedded AWS, deployed resources, API Gateway emulators."""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arcadeflow import deployment as deployment_module
from arcadeflow.apigateway.http_api import HttpApiEmulator
from arcadeflow.apigateway.websocket_api import WebSocketApiEmulator
from arcadeflow.auth import LocalIssuer
from arcadeflow.aws.embedded import EmbeddedAws
from arcadeflow.aws.event_sources import EventSourceMappings
from arcadeflow.aws.moto_patches.dynamodb_stream_retention import STREAM_RETENTION_SECONDS
from arcadeflow.aws.persistence import (
    FORMAT_VERSION,
    RESTARTED_ERROR,
    ApiJournal,
    ExecutionCheckpointer,
    RestoreReport,
    ServiceSnapshots,
    StateStore,
    TableSnapshots,
    restore_executions,
    restore_parameters,
    restore_queue_messages,
    restore_stream_records,
    restore_tables,
)
from arcadeflow.aws.ttl import TtlReaper
from arcadeflow.commands import ENDPOINTS_FILE
from arcadeflow.deployer import create_secrets, deploy
from arcadeflow.deployment import Deployment, ResourceRefs

log = logging.getLogger("arcadeflow")

# Deployed Lambda packages, unpacked (arcadeflow/aws/lambda_code.py).
LAMBDA_CODE_DIR = "lambda-code"


@dataclass
class StackOptions:
    http_port: int = 8000
    ws_port: int = 8001
    aws_port: int = 4566
    region: str = "us-east-1"
    state_dir: Path = Path(".arcadeflow")
    ttl_interval_seconds: float = 5.0
    # DynamoDB Streams keeps 24 hours; shorter for a soak test that wants to see it level off.
    stream_retention_seconds: float = STREAM_RETENTION_SECONDS
    description: Path = deployment_module.DEFAULT_DESCRIPTION
    prewarm: bool = True
    # False: an empty embedded AWS, e.g. for `terraform apply` to create everything itself.
    deploy: bool = True
    # Replaces a function environment variable wherever a function declares it.
    environment_overrides: dict[str, str] = field(default_factory=dict)
    # Emulated provisioned write capacity, logical table -> WCU (arcadeflow/aws/capacity.py).
    table_wcu: dict[str, int] = field(default_factory=dict)
    capacity_burst_seconds: float = 300.0
    # Project files added to every function's unpacked zip at their relative path, never over
    # what the zip holds (e.g. a test's handlers): a local-only addition (lambda_code.py).
    lambda_code: list[Path] = field(default_factory=list)
    # Executions and table items kept in the state directory across restarts (persistence.py).
    persist: bool = True
    # Forget what the state directory kept, and start empty.
    fresh: bool = False
    # Browser origins the HTTP API's CORS configuration allows; None: the local pages' own origin
    # (http://127.0.0.1:<http port>), [] for no CORS configuration.
    cors_origins: list[str] | None = None
    execution_checkpoint_seconds: float = 0.25
    table_snapshot_seconds: float = 2.0


class EmbeddedStack:
    def __init__(self, options: StackOptions):
        self.options = options
        self.deployment: Deployment = deployment_module.load(options.description)
        self.state_dir = Path(options.state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.issuer = LocalIssuer(self.state_dir)
        self.aws = EmbeddedAws(
            options.aws_port,
            options.region,
            log_dir=self.state_dir / "logs",
            code_dir=self.state_dir / LAMBDA_CODE_DIR,
            extra_code=options.lambda_code,
        )
        self.event_sources = EventSourceMappings(self.aws)
        self.ttl = TtlReaper(self.aws, options.ttl_interval_seconds, options.stream_retention_seconds)
        self.refs: ResourceRefs | None = None
        self.capacity: Any = None  # ProvisionedCapacity when --table-wcu is given
        self.http_api: HttpApiEmulator | None = None
        self.websocket_api: WebSocketApiEmulator | None = None
        self.store: StateStore | None = None
        self.checkpointer: ExecutionCheckpointer | None = None
        self.snapshots: TableSnapshots | None = None
        self.restored = RestoreReport()
        if options.fresh:
            StateStore.wipe(self.state_dir)
        self.journal: ApiJournal | None = None
        if options.persist:
            self.store = StateStore(self.state_dir)
            self.journal = ApiJournal(self.store, self.aws)

    def start(self) -> None:
        self.aws.start()
        if self.journal is not None:  # first: it sees each call before the patches answer it
            self.aws.interceptors.insert(0, self.journal.intercept)
        self._emulate_capacity()
        # The HTTP port answers /health (503 until deployed) from the first moment.
        self.http_api = HttpApiEmulator(self.deployment, self.aws, self.issuer, self.options.http_port)
        self.http_api.start()
        # Bound before deploying: functions that push get its callback URL.
        self.websocket_api = WebSocketApiEmulator(self.deployment, self.aws, self.options.ws_port)
        self.websocket_api.start()
        self.http_api.websocket_url = self.websocket_api.url
        if self.options.deploy:
            self.refs = deploy(
                self.deployment,
                self.aws,
                websocket_callback_url=self.websocket_api.callback_url,
                jwt_jwks_url=self.http_api.jwks_url,
                region=self.options.region,
                environment_overrides=self.options.environment_overrides,
                cors_origins=self.cors_origins(),
            )
            self._create_signing_keys()
        # Before anything reads or streams: pollers, the TTL reaper, the APIs.
        self._restore_kept_state()
        self.event_sources.start()
        self.ttl.start()
        if self.options.deploy and self.options.prewarm:
            # One warm environment per function, so the first request does not pay the import.
            names = [self.deployment.physical_name(f) for f in self.deployment.functions]
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(self.aws.runner.prewarm, names))
        self.http_api.ready.set()
        self.websocket_api.ready.set()
        (self.state_dir / ENDPOINTS_FILE).write_text(json.dumps(self.endpoints(), indent=2))
        if self.journal is not None:
            # From now on: what is created over the API (not the deployer's, not the replay's).
            self.journal.recording = True

    def cors_origins(self) -> list[str]:
        if self.options.cors_origins is not None:
            return list(self.options.cors_origins)
        assert self.http_api is not None  # bound first: its port is the pages' origin
        return [self.http_api.url]

    def _restore_kept_state(self) -> None:
        if self.store is None:
            return
        region = self.options.region
        assert self.journal is not None
        # Resources made over the API by an earlier runtime first: their items, messages,
        # stream records and executions are restored into them below.
        self.journal.replay(self.restored)
        restore_tables(self.store, region, self.restored)
        restore_parameters(self.store, region, self.restored)
        restore_queue_messages(self.store, region, self.restored)
        self.event_sources.resume = restore_stream_records(self.store, region, self.restored)
        executions = restore_executions(self.store, region, self.restored)
        self.checkpointer = ExecutionCheckpointer(
            self.store, self.options.region, self.options.execution_checkpoint_seconds
        )
        restarted = set(self.restored.restarted)
        for execution in executions:
            if execution.exec_arn not in restarted:  # as on disk; the restarted ones are not
                self.checkpointer.mark_saved(execution)
        # The restarted ones changed (FAILED now): the first checkpoint writes them.
        self.checkpointer.checkpoint()
        services = ServiceSnapshots(self.store, region, self.event_sources.stream_positions)
        self.snapshots = TableSnapshots(self.store, region, self.options.table_snapshot_seconds, services)
        self.snapshots.mark_saved()
        self.checkpointer.start()
        self.snapshots.start()
        report, store = self.restored, self.store
        last_stop: dict[bool | None, str] = {
            True: "clean",
            False: "NOT clean (killed or crashed: the last seconds may be lost)",
            None: "unknown (format v1 kept no such flag)",
        }
        # One line, every start: what came back, and whether the last runtime stopped cleanly.
        log.info(
            "restored from %s (format v%d%s; last stop %s): %d executions (%d were running: now FAILED %s), "
            "%d items in %d tables, %d messages in %d queues, %d parameters, %d unconsumed stream records, "
            "%d API calls replayed (resources made over the API; %d failed)",
            store.path,
            FORMAT_VERSION,
            f", migrated from v{store.migrated_from}" if store.migrated_from is not None else "",
            "n/a (new state directory)" if store.found_version is None else last_stop[store.last_stop_clean],
            report.executions,
            len(report.restarted),
            RESTARTED_ERROR,
            report.items,
            report.tables,
            report.messages,
            report.queues,
            report.parameters,
            report.stream_records,
            report.api_calls,
            report.api_calls_failed,
        )
        for arn, why in report.skipped.items():
            log.warning("kept execution %s not restored: %s", arn, why)

    def _create_signing_keys(self) -> None:
        create_secrets(self.deployment, self.aws)

    def _emulate_capacity(self) -> None:
        if not self.options.table_wcu:
            return
        from arcadeflow.aws.capacity import ProvisionedCapacity, stored_item_reader

        unknown = set(self.options.table_wcu) - set(self.deployment.tables)
        if unknown:
            raise ValueError(f"--table-wcu names unknown tables: {', '.join(sorted(unknown))}")
        self.capacity = ProvisionedCapacity(
            {self.deployment.physical_name(t): wcu for t, wcu in self.options.table_wcu.items()},
            forward=self.aws.forward,
            burst_seconds=self.options.capacity_burst_seconds,
            stored_item=stored_item_reader(self.options.region),
        )
        self.aws.interceptors.insert(0, self.capacity.intercept)
        log.info("emulated write capacity: %s", self.options.table_wcu)

    def endpoints(self) -> dict[str, Any]:
        assert self.http_api is not None
        return {
            "http": self.http_api.url,
            "aws": self.aws.endpoint_url,
            "websocket": self.websocket_api.url if self.websocket_api else None,
            "websocketCallback": self.websocket_api.callback_url if self.websocket_api else None,
            "pages": self.http_api.page_urls(),
            "region": self.options.region,
            "stateMachines": dict(self.refs.state_machine_arns) if self.refs else {},
            "tables": dict(self.refs.tables) if self.refs else {},
            # What the deployer allowed; with --no-deploy, Terraform's cors_allowed_origins decide.
            "corsOrigins": self.cors_origins() if self.options.deploy else None,
        }

    def stop(self) -> None:
        self.ttl.stop()
        self.event_sources.stop()
        if self.websocket_api:
            self.websocket_api.stop()
        if self.http_api:
            self.http_api.stop()
        # Before the runner stops: an execution still running is kept as running, not as the
        # failures its tasks would meet while the runtime goes down.
        if self.checkpointer is not None:
            self.checkpointer.stop()
        if self.snapshots is not None:
            self.snapshots.stop()
        if self.checkpointer is not None and self.snapshots is not None:
            stats = self.checkpointer.stats
            # Read by benchmarks/persistence_overhead.py: what keeping state cost this run.
            log.info(
                "state kept: %d execution checkpoints (%d execution writes, %d events) in %.3f s CPU, "
                "table snapshots in %.3f s CPU (of which queues, parameters and streams %.3f s)",
                stats.checkpoints,
                stats.executions_written,
                stats.events_written,
                stats.cpu_seconds,
                self.snapshots.cpu_seconds,
                self.snapshots.services.cpu_seconds if self.snapshots.services else 0.0,
            )
        if self.store is not None:
            self.store.close(clean=True)
        self.aws.stop()
        endpoints = self.state_dir / ENDPOINTS_FILE
        if endpoints.exists():
            endpoints.unlink()
