"""Apply buckets, topics, subscriptions, the dataset and tables through the official client libraries.

These are the resources the local emulators implement, so ``tests/emulator/test_provision.py`` runs this
exact code. Each method looks first and creates or updates only what differs, returning ``created``,
``updated`` or ``unchanged``. The clients honour ``STORAGE_EMULATOR_HOST`` and ``PUBSUB_EMULATOR_HOST``;
BigQuery takes an explicit endpoint (or ``BIGQUERY_EMULATOR_HOST``). Libraries are imported lazily.
"""

from __future__ import annotations

import json
import os
from typing import Any

from tools.provisioning.config import ProvisioningError
from tools.provisioning.model import Binding, Bucket, Dataset, Subscription, Table, Topic

BQ_BASIC_ROLES = {"roles/bigquery.dataViewer": "READER", "roles/bigquery.dataEditor": "WRITER",
                  "roles/bigquery.dataOwner": "OWNER"}


class CloudClients:
    """Buckets, topics, subscriptions, the dataset and tables through the official client libraries."""

    def __init__(self, project: str, storage: Any, publisher: Any, subscriber: Any, bigquery: Any) -> None:
        self.project, self.storage, self.publisher, self.subscriber, self.bq = (
            project, storage, publisher, subscriber, bigquery)
        self._tables: dict[str, set[str]] = {}

    @classmethod
    def connect(cls, project: str, bigquery_endpoint: str | None = None) -> CloudClients:
        """Clients for ``project``; anonymous credentials wherever an emulator endpoint is configured."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery, pubsub_v1, storage

        gcs = (storage.Client(project=project, credentials=AnonymousCredentials())
               if os.environ.get("STORAGE_EMULATOR_HOST") else storage.Client(project=project))
        endpoint = bigquery_endpoint or os.environ.get("BIGQUERY_EMULATOR_HOST")
        if endpoint:
            from google.api_core.client_options import ClientOptions

            bq = bigquery.Client(project=project, credentials=AnonymousCredentials(),
                                 client_options=ClientOptions(api_endpoint=endpoint))
        else:
            bq = bigquery.Client(project=project)
        return cls(project, gcs, pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient(), bq)

    def bucket(self, spec: Bucket) -> str:
        bucket = self.storage.lookup_bucket(spec.name)
        if bucket is None:
            bucket = self.storage.bucket(spec.name)
            _configure_bucket(bucket, spec)
            self.storage.create_bucket(bucket, location=spec.location)
            return "created"
        if bucket.location and bucket.location.lower() != spec.location.lower():
            raise ProvisioningError(f"gs://{spec.name} exists in {bucket.location}, not {spec.location}: a bucket "
                                    "cannot move; pick another --raw-bucket or --region")
        if _bucket_matches(bucket, spec):
            return "unchanged"
        _configure_bucket(bucket, spec)
        bucket.patch()
        return "updated"

    def topic(self, spec: Topic) -> str:
        from google.api_core.exceptions import AlreadyExists

        try:
            self.publisher.create_topic(name=self.publisher.topic_path(self.project, spec.name))
        except AlreadyExists:
            return "unchanged"
        return "created"

    def subscription(self, spec: Subscription) -> str:
        from google.api_core.exceptions import AlreadyExists

        desired = self._subscription_body(spec)
        try:
            self.subscriber.create_subscription(request=desired)
            return "created"
        except AlreadyExists:
            pass
        current = self.subscriber.get_subscription(request={"subscription": desired["name"]})
        if current.topic != desired["topic"]:
            raise ProvisioningError(f"subscription {spec.name} is attached to {current.topic}; delete it to re-create")
        changed = [path for path, value in _subscription_fields(current).items()
                   if value != _subscription_fields_of(desired)[path]]
        if not changed:
            return "unchanged"
        self.subscriber.update_subscription(request={"subscription": desired, "update_mask": {"paths": changed}})
        return "updated"

    def _subscription_body(self, spec: Subscription) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.subscriber.subscription_path(self.project, spec.name),
            "topic": self.publisher.topic_path(self.project, spec.topic),
            "ack_deadline_seconds": spec.ack_deadline_s,
            "message_retention_duration": {"seconds": spec.retention_days * 86400},
            "expiration_policy": {},  # present but without a TTL: never expires while idle
        }
        if spec.delivery:
            body["dead_letter_policy"] = {
                "dead_letter_topic": self.publisher.topic_path(self.project, spec.delivery.dead_letter_topic),
                "max_delivery_attempts": spec.delivery.max_delivery_attempts}
            body["retry_policy"] = {"minimum_backoff": {"seconds": spec.delivery.min_retry_delay_s},
                                    "maximum_backoff": {"seconds": spec.delivery.max_retry_delay_s}}
        return body

    def dataset(self, spec: Dataset) -> str:
        from google.api_core.exceptions import NotFound
        from google.cloud import bigquery

        try:
            current = self.bq.get_dataset(f"{self.project}.{spec.name}")
        except NotFound:
            dataset = bigquery.Dataset(f"{self.project}.{spec.name}")
            dataset.location, dataset.description = spec.location, spec.description
            self.bq.create_dataset(dataset)
            return "created"
        if current.location and current.location.lower() != spec.location.lower():
            raise ProvisioningError(f"dataset {spec.name} exists in {current.location}, not {spec.location}; "
                                    "loads from a bucket in another location would fail: use another --dataset")
        return "unchanged"

    def table(self, spec: Table) -> str:
        if spec.dataset not in self._tables:
            self._tables[spec.dataset] = {t.table_id for t in self.bq.list_tables(f"{self.project}.{spec.dataset}")}
        if spec.name in self._tables[spec.dataset]:
            return "unchanged"
        self.bq.query(spec.ddl, project=self.project).result()
        self._tables[spec.dataset].add(spec.name)
        return "created"

    def grant_dataset(self, binding: Binding) -> str:
        from google.cloud import bigquery

        kind, _, email = binding.member.partition(":")
        entity_type = {"serviceAccount": "userByEmail", "user": "userByEmail", "group": "groupByEmail"}[kind]
        dataset = self.bq.get_dataset(f"{self.project}.{binding.target.name}")
        roles = {binding.role, BQ_BASIC_ROLES.get(binding.role)}
        entries = list(dataset.access_entries)
        if any(e.role in roles and e.entity_type == entity_type and e.entity_id == email for e in entries):
            return "unchanged"
        dataset.access_entries = [*entries, bigquery.AccessEntry(binding.role, entity_type, email)]
        self.bq.update_dataset(dataset, ["access_entries"])
        return "granted"


def _lifecycle(spec: Bucket) -> list[dict[str, Any]]:
    rules = []
    for rule in spec.lifecycle:
        if rule.storage_class:
            rules.append({"action": {"type": "SetStorageClass", "storageClass": rule.storage_class},
                          "condition": {"age": rule.age_days, "matchesStorageClass": ["STANDARD"]}})
        else:
            rules.append({"action": {"type": "Delete"}, "condition": {"age": rule.age_days}})
    return rules


def _configure_bucket(bucket: Any, spec: Bucket) -> None:
    bucket.iam_configuration.uniform_bucket_level_access_enabled = spec.uniform_access
    bucket.iam_configuration.public_access_prevention = spec.public_access_prevention
    bucket.lifecycle_rules = _lifecycle(spec)


def _bucket_matches(bucket: Any, spec: Bucket) -> bool:
    iam = bucket.iam_configuration
    rules = [dict(r) for r in bucket.lifecycle_rules]
    return (bool(iam.uniform_bucket_level_access_enabled) == spec.uniform_access
            and iam.public_access_prevention == spec.public_access_prevention
            and json.dumps(rules, sort_keys=True) == json.dumps(_lifecycle(spec), sort_keys=True))


def _seconds(duration: Any) -> int:
    return int(duration.total_seconds()) if hasattr(duration, "total_seconds") else int(duration or 0)


def _subscription_fields(current: Any) -> dict[str, Any]:
    dl = current.dead_letter_policy
    return {"ack_deadline_seconds": current.ack_deadline_seconds,
            "message_retention_duration": _seconds(current.message_retention_duration),
            "dead_letter_policy": (dl.dead_letter_topic, dl.max_delivery_attempts) if dl.dead_letter_topic else None,
            "retry_policy": (_seconds(current.retry_policy.minimum_backoff),
                             _seconds(current.retry_policy.maximum_backoff))
            if "retry_policy" in current else None}


def _subscription_fields_of(body: dict[str, Any]) -> dict[str, Any]:
    dl, retry = body.get("dead_letter_policy"), body.get("retry_policy")
    return {"ack_deadline_seconds": body["ack_deadline_seconds"],
            "message_retention_duration": body["message_retention_duration"]["seconds"],
            "dead_letter_policy": (dl["dead_letter_topic"], dl["max_delivery_attempts"]) if dl else None,
            "retry_policy": (retry["minimum_backoff"]["seconds"], retry["maximum_backoff"]["seconds"])
            if retry else None}
