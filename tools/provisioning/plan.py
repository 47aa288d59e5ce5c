"""``build_plan``: every resource and IAM binding of one deployment, from its Config and the generated DDL."""

from __future__ import annotations

import re

from fitbit.messages import FlushTrigger, RunTrigger, encode
from tools.provisioning.config import (
    APIS,
    EXTRACT,
    FUNCTION_NAMES,
    OAUTH_CLIENT_SECRET,
    PARTICIPANT_SECRET_PREFIX,
    TRANSFORM_LOAD,
    Config,
)
from tools.provisioning.model import (
    Api,
    Binding,
    Bucket,
    Condition,
    CustomRole,
    Dataset,
    DeliveryPolicy,
    LifecycleRule,
    Plan,
    Resource,
    SchedulerJob,
    Secret,
    ServiceAccount,
    Subscription,
    Table,
    Target,
    Topic,
    TriggerDelivery,
)

# --- the plan ------------------------------------------------------------------------------------------

_CREATE_TABLE = re.compile(r"^CREATE TABLE IF NOT EXISTS `([^`.]+)\.([^`]+)`", re.MULTILINE)
DATASET_PLACEHOLDER = "${dataset}"


def split_statements(sql: str) -> list[str]:
    """Split a SQL script at top-level semicolons, ignoring ones inside quotes and ``--`` comment lines."""
    statements, current, quote, i = [], [], "", 0
    while i < len(sql):
        ch = sql[i]
        if quote:
            current.append(ch)
            if ch == "\\":
                current.append(sql[i + 1: i + 2])
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
            current.append(ch)
        elif ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end < 0 else end
            continue
        elif ch == ";":
            statements.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    tail = "".join(current).strip()
    return [s for s in [*statements, tail] if s]


def tables_from_ddl(tables_sql: str, dataset: str) -> tuple[Table, ...]:
    """One Table per CREATE TABLE statement of the generated DDL, with ``${dataset}`` substituted.

    Raises:
        ValueError: a statement is not ``CREATE TABLE IF NOT EXISTS`` (the generated file never replaces
            a data table) or names no table.
    """
    tables = []
    for statement in split_statements(tables_sql.replace(DATASET_PLACEHOLDER, dataset)):
        match = _CREATE_TABLE.match(statement)
        if not match or "CREATE OR REPLACE" in statement.upper():
            raise ValueError(f"unexpected statement in the generated DDL: {statement[:80]!r}")
        tables.append(Table(match.group(1), match.group(2), statement + ";"))
    return tuple(tables)


def scheduler_bodies(config: Config) -> dict[str, str]:
    """The message each scheduler job publishes, encoded exactly as the pipeline decodes it."""
    return {
        "run": encode(RunTrigger(days=config.refetch_days, reason="daily", run_id="scheduled")).decode(),
        "flush": encode(FlushTrigger(run_id="hourly")).decode(),
    }


def build_plan(config: Config, tables_sql: str) -> Plan:
    """Every resource and binding of a deployment described by ``config``.

    Args:
        config: the deployment's names and knobs.
        tables_sql: the generated ``bigquery_sql/create_tables.sql`` (with its ``${dataset}`` placeholder).
    """
    c, p = config, config.project
    extract = ServiceAccount("fitbit-extract", c.service_account("fitbit-extract"),
                             "runtime and trigger identity of the extract function")
    transform = ServiceAccount("fitbit-transform-load", c.service_account("fitbit-transform-load"),
                               "runtime and trigger identity of the transform_load function")
    deployer = ServiceAccount("fitbit-deployer", c.service_account("fitbit-deployer"),
                              "identity of cloudbuild.yaml: deploys the functions, runs the post-deploy phase")
    builder = ServiceAccount("fitbit-builder", c.service_account("fitbit-builder"),
                             "builds the functions' containers (gcloud functions deploy --build-service-account)")
    gcs_agent = f"serviceAccount:service-{c.number}@gs-project-accounts.iam.gserviceaccount.com"
    pubsub_agent = f"serviceAccount:service-{c.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

    secret_lister = CustomRole("fitbitSecretLister", p, "Fitbit pipeline: list secrets",
                               ("secretmanager.secrets.list",))
    post_deploy = CustomRole("fitbitPostDeploy", p, "Fitbit pipeline: post-deploy wiring", (
        "eventarc.triggers.get",
        "pubsub.subscriptions.get", "pubsub.subscriptions.getIamPolicy", "pubsub.subscriptions.setIamPolicy",
        "pubsub.subscriptions.update", "pubsub.topics.attachSubscription",
        "run.services.get", "run.services.getIamPolicy", "run.services.setIamPolicy",
    ))
    delivery = DeliveryPolicy(c.dead_letter_topic, c.max_delivery_attempts, c.min_retry_delay_s, c.max_retry_delay_s)
    raw_rules = [LifecycleRule(c.raw_nearline_after_days, "NEARLINE")] if c.raw_nearline_after_days else []
    if c.raw_delete_after_days:
        raw_rules.append(LifecycleRule(c.raw_delete_after_days))
    bodies = scheduler_bodies(c)

    resources: list[Resource] = [
        *(Api(name) for name in APIS),
        extract, transform, deployer, builder,
        secret_lister, post_deploy,
        Bucket(c.raw_bucket, c.region, "raw API pages exactly as received, error objects and flush markers",
               tuple(raw_rules)),
        Bucket(c.staging_bucket, c.region, "NDJSON rows waiting for the hourly MERGE (deleted by each flush; the "
               "lifecycle rule only sweeps what a failed flush left)",
               (LifecycleRule(c.staging_delete_after_days),)),
        Bucket(c.build_bucket, c.region, "source archives uploaded by `gcloud builds submit` (the build reads "
               "them as fitbit-deployer)", (LifecycleRule(30),)),
        Topic(c.units_topic, "work messages: scheduled runs and flushes, units, follow-ups"),
        Topic(c.dead_letter_topic, "messages the functions failed on max_delivery_attempts times"),
        Subscription(f"{c.dead_letter_topic}-hold", c.dead_letter_topic,
                     "keeps dead-lettered messages for inspection and replay (a topic alone keeps nothing)"),
        Dataset(c.dataset, c.region, "Fitbit / Google Health API data loaded by the fitbit pipeline"),
        *tables_from_ddl(tables_sql, c.dataset),
        Secret(OAUTH_CLIENT_SECRET, "its version is added by scripts/authorise.py --client-id/--client-secret; "
               f"{PARTICIPANT_SECRET_PREFIX}<id> secrets are created by the same script"),
        TriggerDelivery(FUNCTION_NAMES[EXTRACT], c.region, delivery),
        TriggerDelivery(FUNCTION_NAMES[TRANSFORM_LOAD], c.region, delivery),
        SchedulerJob("fitbit-daily-run", c.region, f"0 {c.daily_hour} * * *", c.time_zone, c.units_topic,
                     bodies["run"], f"daily run over a {c.refetch_days}-day sliding window"),
        SchedulerJob("fitbit-hourly-flush", c.region, f"{c.flush_minute} * * * *", c.time_zone, c.units_topic,
                     bodies["flush"], "hourly MERGE of the staged rows into the tables"),
    ]

    project, raw, staging = Target("project", p), Target("bucket", c.raw_bucket), Target("bucket", c.staging_bucket)
    units = Target("topic", c.units_topic)
    secrets = f"projects/{c.number}/secrets/"
    secret_condition = Condition(
        "fitbit-pipeline-secrets",
        f'resource.name.startsWith("{secrets}{PARTICIPANT_SECRET_PREFIX}") || '
        f'resource.name == "{secrets}{OAUTH_CLIENT_SECRET}" || '
        f'resource.name.startsWith("{secrets}{OAUTH_CLIENT_SECRET}/")',
    )
    bindings = [
        # extract: one work message → one API request → one raw object.
        Binding(extract.member, "roles/pubsub.publisher", units,
                "fans a run out into units; republishes deferred (429) units"),
        Binding(extract.member, "roles/storage.objectCreator", raw,
                "stores raw pages, error objects and flush markers (create-only: never overwrites)"),
        Binding(extract.member, "roles/storage.objectViewer", raw,
                "lists the bucket to skip a TCX export that is already stored"),
        Binding(extract.member, "roles/secretmanager.secretAccessor", project,
                "reads refresh tokens and the OAuth client; a name condition, because participant secrets "
                "are created after deployment by scripts/authorise.py", secret_condition),
        Binding(extract.member, secret_lister.name, project,
                "lists participant-* secrets to know who is enrolled (names only, no payloads)"),
        Binding(extract.member, "roles/run.invoker", Target("run-service", FUNCTION_NAMES[EXTRACT]),
                "trigger identity: Eventarc pushes units-topic messages to the function"),
        # transform_load: one raw object → staged rows + follow-ups; flush markers → MERGE.
        Binding(transform.member, "roles/storage.objectViewer", raw, "reads raw pages and error objects"),
        Binding(transform.member, "roles/storage.objectAdmin", staging,
                "writes staged NDJSON, lists it and deletes it after each MERGE"),
        Binding(transform.member, "roles/bigquery.dataEditor", Target("dataset", c.dataset),
                "creates missing tables and views, loads per-flush staging tables, MERGEs, drops them"),
        Binding(transform.member, "roles/bigquery.jobUser", project,
                "runs the load and MERGE jobs (jobs belong to the project, not the dataset)"),
        Binding(transform.member, "roles/pubsub.publisher", units,
                "publishes follow-ups: next pages, TCX exports, sleep re-reads"),
        Binding(transform.member, "roles/eventarc.eventReceiver", project,
                "trigger identity of the Cloud Storage trigger (direct events need it; Pub/Sub ones do not)"),
        Binding(transform.member, "roles/run.invoker", Target("run-service", FUNCTION_NAMES[TRANSFORM_LOAD]),
                "trigger identity: Eventarc pushes object-finalized events to the function"),
        # Google-managed service agents.
        Binding(gcs_agent, "roles/pubsub.publisher", project,
                "Cloud Storage publishes object-finalized events to the topic behind the Eventarc trigger"),
        Binding(pubsub_agent, "roles/pubsub.publisher", Target("topic", c.dead_letter_topic),
                "moves undeliverable messages to the dead-letter topic"),
        *(Binding(pubsub_agent, "roles/pubsub.subscriber", Target("trigger-subscription", FUNCTION_NAMES[f]),
                  "acknowledges the messages it dead-letters from the trigger subscription")
          for f in (EXTRACT, TRANSFORM_LOAD)),
        # The build's identities.
        Binding(deployer.member, "roles/cloudfunctions.developer", project, "deploys and updates both functions"),
        *(Binding(deployer.member, "roles/iam.serviceAccountUser", Target("service-account", sa.email),
                  f"attaches {sa.account_id} to what it deploys") for sa in (extract, transform, builder)),
        Binding(deployer.member, "roles/storage.objectViewer", Target("bucket", c.build_bucket),
                "reads the source archive `gcloud builds submit --gcs-source-staging-dir` uploaded"),
        Binding(deployer.member, "roles/logging.logWriter", project,
                "writes the build's logs (a build run as a user-managed service account logs to Cloud Logging)"),
        Binding(deployer.member, "roles/cloudscheduler.admin", project, "creates and updates the two scheduler jobs"),
        Binding(deployer.member, post_deploy.name, project,
                "post-deploy phase: run.invoker grants and the trigger subscriptions' dead-letter policy"),
        Binding(builder.member, "roles/run.builder", project,
                "builds function containers: reads the uploaded source, pushes the image, writes build logs"),
    ]
    return Plan(config, tuple(resources), tuple(bindings))
