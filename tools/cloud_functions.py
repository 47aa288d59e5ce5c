"""The deployable Cloud Functions, declared once.

Adding a function is one ``CloudFunction`` entry here plus its folder ``functions/<name>/main.py``.
Everything else reads this tuple: the packaging script (what each archive pins and must import), the
provisioning plan (the function's identity, its grants, the delivery policy on its trigger
subscription), the emulated stack (what ``tools/emulated_gcp.py`` serves) and the tests that hold
``cloudbuild.yaml`` to it (one deploy step per entry, with the trigger its entry names).

Standard library only: provisioning imports it in the Cloud SDK image, where nothing is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# What triggers a function, and how it is delivered (Google Cloud docs, checked 2026-11-30):
# - "units-topic": messagePublished events of the units topic (an Eventarc Pub/Sub trigger);
# - "raw-bucket": object-finalized events of the raw bucket (a direct Cloud Storage event, for which the
#   trigger identity also needs roles/eventarc.eventReceiver);
# - "http": plain HTTPS requests from outside Google Cloud (the Google Health API's webhook POSTs). No
#   Eventarc trigger, so no trigger identity, no trigger subscription and no delivery policy: the caller
#   retries (Google, for up to 7 days). It must be reachable without a Google identity: the request's
#   signature and the endpoint secret are its authentication (see docs/deploy.md).
Trigger = Literal["units-topic", "raw-bucket", "http"]
# What a grant is on, resolved against the deployment's names by tools.provisioning.plan.
GrantTarget = Literal["project", "units-topic", "raw-bucket", "staging-bucket", "claims-bucket", "dataset",
                      "pipeline-secrets", "webhook-secrets"]
DIRECT_EVENT_TRIGGERS: frozenset[Trigger] = frozenset({"raw-bucket"})
EVENT_TRIGGERS: frozenset[Trigger] = frozenset({"units-topic", "raw-bucket"})


@dataclass(frozen=True)
class Grant:
    """One role the function's identity holds, on a target named symbolically, and why it needs it.

    ``role`` is a predefined role (``roles/...``) or the id of one of the plan's custom roles.
    """

    role: str
    on: GrantTarget
    reason: str


@dataclass(frozen=True)
class CloudFunction:
    """One deployable function.

    ``name`` is the folder ``functions/<name>/`` and the Python entry point; the deployed name and the
    service account are ``fitbit-<name with hyphens>`` (Cloud Run service names allow no underscores).
    The account is both the runtime and the trigger identity. ``requires`` are the distributions its
    archive pins; ``runtime_imports`` the client modules its adapters import lazily (inside methods),
    which loading the entry point alone would not exercise.
    """

    name: str
    purpose: str
    trigger: Trigger
    requires: tuple[str, ...]
    runtime_imports: tuple[str, ...]
    grants: tuple[Grant, ...]

    @property
    def deployed_name(self) -> str:
        return "fitbit-" + self.name.replace("_", "-")

    @property
    def account_id(self) -> str:
        return self.deployed_name

    @property
    def target(self) -> str:
        return self.name

    @property
    def event_driven(self) -> bool:
        """Delivered by Eventarc (a trigger identity and subscription), as opposed to called over HTTP."""
        return self.trigger in EVENT_TRIGGERS

    @property
    def signature_type(self) -> str:
        """functions-framework's ``--signature-type``: ``cloudevent`` for Eventarc, ``http`` otherwise."""
        return "cloudevent" if self.event_driven else "http"


# helper/compose imports the warehouse module (hence sqlglot), the secrets module and the parser (hence msgspec:
# fitbit/parse/typed.py) at import time, so every function needs those; BigQuery and Secret Manager clients are
# only built by the one that uses them.
FUNCTIONS: tuple[CloudFunction, ...] = (
    CloudFunction(
        "extract",
        purpose="one work message → at most one API request → one raw object",
        trigger="units-topic",
        requires=("functions-framework", "google-auth", "google-cloud-pubsub", "google-cloud-secret-manager",
                  "google-cloud-storage", "msgspec", "requests", "sqlglot"),
        runtime_imports=("google.cloud.pubsub_v1", "google.cloud.secretmanager", "google.cloud.storage"),
        grants=(
            Grant("roles/pubsub.publisher", "units-topic",
                  "fans a run out into units; republishes deferred (429) units"),
            Grant("roles/storage.objectCreator", "raw-bucket",
                  "stores raw pages, error objects and flush markers (create-only: never overwrites)"),
            Grant("roles/storage.objectViewer", "raw-bucket",
                  "lists the bucket to skip a TCX export that is already stored"),
            Grant("roles/secretmanager.secretAccessor", "pipeline-secrets",
                  "reads refresh tokens and the OAuth client; a name condition, because participant secrets "
                  "are created after deployment by scripts/authorise.py"),
            Grant("fitbitSecretLister", "project",
                  "lists participant-* secrets to know who is enrolled (names only, no payloads)"),
        ),
    ),
    CloudFunction(
        "transform_load",
        purpose="one raw object → staged rows + follow-ups; a flush marker → load and MERGE",
        trigger="raw-bucket",
        requires=("functions-framework", "google-auth", "google-cloud-bigquery", "google-cloud-pubsub",
                  "google-cloud-storage", "msgspec", "requests", "sqlglot"),
        runtime_imports=("google.cloud.bigquery", "google.cloud.pubsub_v1", "google.cloud.storage"),
        grants=(
            Grant("roles/storage.objectViewer", "raw-bucket", "reads raw pages and error objects"),
            Grant("roles/storage.objectUser", "staging-bucket",
                  "writes staged NDJSON, lists it and deletes it after each MERGE (no IAM or bucket rights)"),
            Grant("roles/bigquery.dataEditor", "dataset",
                  "creates missing tables and views, loads per-flush staging tables, MERGEs, drops them"),
            Grant("roles/bigquery.jobUser", "project",
                  "runs the load and MERGE jobs (jobs belong to the project, not the dataset)"),
            Grant("roles/pubsub.publisher", "units-topic",
                  "publishes follow-ups: next pages, TCX exports, sleep re-reads"),
        ),
    ),
    # helper/compose is shared, so notify pins what the other two need to import it (sqlglot: the warehouse
    # module); cryptography verifies the webhook signatures. It never builds a BigQuery client.
    CloudFunction(
        "notify",
        purpose="one Google Health webhook POST → 204 and the re-read units for the changed days",
        trigger="http",
        requires=("cryptography", "functions-framework", "google-auth", "google-cloud-pubsub",
                  "google-cloud-secret-manager", "google-cloud-storage", "msgspec", "requests", "sqlglot"),
        runtime_imports=("google.cloud.pubsub_v1", "google.cloud.secretmanager", "google.cloud.storage"),
        grants=(
            Grant("roles/pubsub.publisher", "units-topic", "publishes the re-read units of the changed days"),
            Grant("roles/storage.objectCreator", "claims-bucket",
                  "claims one idempotency key per participant × type × day × window (create-only: a second "
                  "create of a key fails, which is the deduplication)"),
            Grant("roles/storage.objectCreator", "raw-bucket",
                  "records a notification for an unknown healthUserId as an error object (create-only)"),
            Grant("roles/secretmanager.secretAccessor", "webhook-secrets",
                  "reads the endpoint secret and the healthUserId → participant index; a name condition "
                  "keeps it off the refresh tokens and the OAuth client"),
        ),
    ),
)


def function_named(name: str) -> CloudFunction:
    """The declared function ``name``.

    Raises:
        KeyError: no such function (the message lists the declared ones).
    """
    for function in FUNCTIONS:
        if function.name == name:
            return function
    raise KeyError(f"no function {name!r}; declared: {', '.join(f.name for f in FUNCTIONS)}")
