"""Composition: build every adapter from typed Settings, once per process, lazily.

Entry points call ``extract_context()`` / ``transform_context()`` inside the handler, never at import,
so importing a function does no I/O. On the embedded default the raw store, the queue and the
warehouse are shared objects, so an object stored by extract becomes a storage event in the same
durable queue (SQLite in the state dir) that carries the work messages, as GCS + Eventarc would deliver it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from fitbit.client import HealthClient
from fitbit.jobs.extract import ExtractContext
from fitbit.jobs.notify import NotifyContext
from fitbit.webhooks.dedup import StoreClaims
from fitbit.webhooks.participants import ParticipantDirectory
from fitbit.webhooks.signature import KeysetCache
from fitbit.jobs.transform import TransformContext
from fitbit.errors import ReconsentNeeded
from fitbit.oauth import TokenSource
from fitbit.plan import PlanOptions
from fitbit.ports import Queue, RawStore, Warehouse
from helper import logs
from helper.queue import LocalQueue, PubSubQueue, utc_now
from helper.secrets import (
    LocalSecretStore,
    SecretManagerStore,
    SecretStore,
    enrolled_participants,
    load_grant,
    load_oauth_client,
)
from helper.settings import Settings
from helper.storage import GcsRawStore, LocalRawStore
from helper.webhooks import CachedSecrets, indexed_users, keyset_fetcher
from helper.warehouse import BigQueryWarehouse, DuckDbWarehouse


@dataclass(eq=False)  # hashed by identity: one set of adapters per Settings, cached below
class Adapters:
    """One process's adapters, each typed by the Protocol the domain (or, for secrets, composition) uses.

    The warehouse is built on first use (a connection), then kept: ``warehouse()``.
    """

    settings: Settings
    store: RawStore
    queue: Queue
    warehouse_factory: Callable[[], Warehouse]
    secrets: SecretStore
    clock: Callable[[], datetime] = utc_now

    @cache  # noqa: B019 - one warehouse connection per Adapters object is the point
    def warehouse(self) -> Warehouse:
        return self.warehouse_factory()


# functions-framework serves requests on several threads: without the lock the first burst could build
# several sets of adapters (and warehouse connections) at once.
_LOCK = threading.RLock()


def adapters(settings: Settings) -> Adapters:
    with _LOCK:
        return _adapters(settings)


@cache
def _adapters(settings: Settings) -> Adapters:
    logs.configure()
    if settings.runtime == "local":
        queue = LocalQueue(settings.state_dir / "queue.sqlite", topic=settings.units_topic)
        store = LocalRawStore(settings.raw_dir, settings.raw_bucket, on_finalize=queue.object_finalized)
        return Adapters(
            settings, store, queue,
            lambda: DuckDbWarehouse(settings.warehouse_file, settings.dataset, settings.state_dir / "staging"),
            LocalSecretStore(settings.secrets_file),
        )
    project = settings.gcp_project or ""
    return Adapters(
        settings,
        GcsRawStore(settings.raw_bucket, project),
        PubSubQueue(project, settings.units_topic),
        lambda: BigQueryWarehouse(project, settings.dataset, settings.raw_bucket + "-staging",
                                  endpoint=settings.bigquery_endpoint),
        SecretManagerStore(project) if settings.secrets_backend == "secret-manager"
        else LocalSecretStore(settings.secrets_file),
    )


def client_factory(a: Adapters) -> Callable[[str], tuple[HealthClient, str | None]]:
    settings = a.settings
    cached: dict[str, tuple[HealthClient, str | None]] = {}
    lock = threading.Lock()  # extract units run on a thread pool: one client (one session) per participant

    def for_participant(participant: str) -> tuple[HealthClient, str | None]:
        if (found := cached.get(participant)) is not None:
            return found
        with lock:
            if participant in cached:
                return cached[participant]
            grant = load_grant(a.secrets, participant)
            config = load_oauth_client(a.secrets)
            if config is None:
                raise ReconsentNeeded("no OAuth client is configured",
                                      fix="run scripts/authorise.py with --client-id/--client-secret once")
            if settings.oauth_base_url:
                config = config.with_endpoints_of(settings.oauth_base_url)
            tokens = TokenSource(config, grant.refresh_token, tuple(grant.scopes), participant_id=participant)
            client = HealthClient(tokens, base_url=settings.api_base_url)
            cached[participant] = (client, grant.time_zone)
        return cached[participant]

    return for_participant


def extract_context(settings: Settings | None = None) -> ExtractContext:
    with _LOCK:
        return _extract_context(adapters(settings or Settings.from_env()))


@cache
def _extract_context(a: Adapters) -> ExtractContext:
    return ExtractContext(
        store=a.store, queue=a.queue, clients=client_factory(a),
        participants=lambda: enrolled_participants(a.secrets), clock=a.clock,
        max_attempts=a.settings.max_attempts,
        options=PlanOptions(heart_rate_seconds=a.settings.heart_rate_seconds),
        app_verified=a.settings.oauth_app_verified,
    )


def transform_context(settings: Settings | None = None) -> TransformContext:
    with _LOCK:
        return _transform_context(adapters(settings or Settings.from_env()))


@cache
def _transform_context(a: Adapters) -> TransformContext:
    warehouse = a.warehouse()
    warehouse.ensure_schema()
    after_flush = None
    if a.settings.sheets_export_spreadsheet_id:
        from helper.sheet_export import DailySheetExport

        after_flush = DailySheetExport(warehouse, a.settings.sheets_export_spreadsheet_id,
                                       a.settings.sheets_export_hour_utc)
    return TransformContext(store=a.store, warehouse=warehouse, queue=a.queue, clock=a.clock,
                            sleep_refetch_delay_s=a.settings.sleep_refetch_delay_s,
                            max_sleep_refetches=a.settings.max_sleep_refetches, after_flush=after_flush)


def notify_context(settings: Settings | None = None) -> NotifyContext:
    with _LOCK:
        return _notify_context(adapters(settings or Settings.from_env()))


@cache
def _notify_context(a: Adapters) -> NotifyContext:
    s = a.settings
    # Claims go to a store of their own: in the raw bucket each would fire a transform_load invocation.
    claims = (LocalRawStore(s.claims_dir, s.claims_bucket) if s.runtime == "local"
              else GcsRawStore(s.claims_bucket, s.gcp_project or ""))
    return NotifyContext(
        accepted_secrets=CachedSecrets(a.secrets), keyset=KeysetCache(keyset_fetcher(s.webhook_keyset_url)),
        participants=ParticipantDirectory(lambda: indexed_users(a.secrets)), claims=StoreClaims(claims),
        queue=a.queue, store=a.store, clock=a.clock, coalesce_s=s.webhook_coalesce_s,
        require_authorization=s.webhook_require_authorization,
        options=PlanOptions(heart_rate_seconds=s.heart_rate_seconds),
    )
