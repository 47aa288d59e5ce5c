"""``build_plan``: every resource and IAM binding of one deployment, from its Config and the generated DDL."""

from __future__ import annotations

import re

from fitbit.messages import FlushTrigger, RunTrigger, encode
from helper.sql import with_dataset
from tools.cloud_functions import DIRECT_EVENT_TRIGGERS, FUNCTIONS, CloudFunction, GrantTarget
from tools.provisioning.config import (
    APIS,
    OAUTH_CLIENT_SECRET,
    PARTICIPANT_INDEX_SECRET,
    PARTICIPANT_SECRET_PREFIX,
    WEBHOOK_SECRET,
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
    ServiceAgent,
    Subscription,
    Table,
    Target,
    Topic,
    TriggerDelivery,
    flags_of,
)

# --- the plan ------------------------------------------------------------------------------------------

_CREATE_TABLE = re.compile(r"^CREATE TABLE IF NOT EXISTS `([^`.]+)\.([^`]+)`", re.MULTILINE)


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
    for statement in split_statements(with_dataset(tables_sql, dataset)):
        match = _CREATE_TABLE.match(statement)
        if not match or "CREATE OR REPLACE" in statement.upper():
            raise ValueError(f"unexpected statement in the generated DDL: {statement[:80]!r}")
        tables.append(Table(match.group(1), match.group(2), statement + ";", (("dataset", dataset),)))
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
    identities = {f.name: ServiceAccount(f.account_id, c.service_account(f.account_id),
                                         f"runtime and trigger identity of the {f.name} function: {f.purpose}")
                  for f in FUNCTIONS}
    deployer = ServiceAccount("fitbit-deployer", c.service_account("fitbit-deployer"),
                              "identity of cloudbuild.yaml: deploys the functions, runs the post-deploy phase")
    builder = ServiceAccount("fitbit-builder", c.service_account("fitbit-builder"),
                             "builds the functions' containers (gcloud functions deploy --build-service-account)")
    gcs_agent = ServiceAgent("storage.googleapis.com", f"service-{c.number}@gs-project-accounts.iam.gserviceaccount.com",
                             "publishes the raw bucket's object events for the Eventarc storage trigger")
    pubsub_agent = ServiceAgent("pubsub.googleapis.com", f"service-{c.number}@gcp-sa-pubsub.iam.gserviceaccount.com",
                                "dead-letters messages; signs the push tokens of Eventarc's subscriptions")
    eventarc_agent = ServiceAgent("eventarc.googleapis.com",
                                  f"service-{c.number}@gcp-sa-eventarc.iam.gserviceaccount.com",
                                  "manages each trigger's transport; created before the first deploy, because a "
                                  "fresh project's first storage trigger otherwise fails with \"Permission denied "
                                  "while using the Eventarc Service Agent\"")

    secret_lister = CustomRole("fitbitSecretLister", p, "Fitbit pipeline: list secrets",
                               ("secretmanager.secrets.list",))
    post_deploy = CustomRole("fitbitPostDeploy", p, "Fitbit pipeline: post-deploy wiring", (
        "eventarc.triggers.get", "pubsub.subscriptions.get", "pubsub.subscriptions.update",
        "pubsub.topics.attachSubscription",
    ))
    delivery = DeliveryPolicy(c.dead_letter_topic, c.max_delivery_attempts, c.min_retry_delay_s, c.max_retry_delay_s)
    raw_rules = [LifecycleRule(c.raw_nearline_after_days, "NEARLINE")] if c.raw_nearline_after_days else []
    if c.raw_delete_after_days:
        raw_rules.append(LifecycleRule(c.raw_delete_after_days))
    bodies = scheduler_bodies(c)
    delivery_flags = flags_of(c, "region", "units_topic", "max_delivery_attempts", "min_retry_delay_s",
                              "max_retry_delay_s")

    resources: list[Resource] = [
        *(Api(name) for name in APIS),
        gcs_agent, pubsub_agent, eventarc_agent,
        *identities.values(), deployer, builder,
        secret_lister, post_deploy,
        Bucket(c.raw_bucket, c.region, "raw API pages exactly as received, error objects and flush markers",
               tuple(raw_rules), flags=flags_of(c, "raw_bucket", "region", "raw_nearline_after_days",
                                               "raw_delete_after_days")),
        Bucket(c.staging_bucket, c.region, "NDJSON rows waiting for the hourly MERGE (deleted by each flush; the "
               "lifecycle rule only sweeps what a failed flush left)", (LifecycleRule(c.staging_delete_after_days),),
               flags=flags_of(c, "raw_bucket", "region", "staging_delete_after_days")),
        Bucket(c.claims_bucket, c.region, "the notify function's idempotency keys (empty objects, one per "
               "participant × type × day × coalescing window); a bucket of its own so that claims fire no "
               "transform_load invocation, and a day is all a key must live", (LifecycleRule(1),),
               flags=flags_of(c, "raw_bucket", "region")),
        Bucket(c.build_bucket, c.region, "source archives uploaded by `gcloud builds submit` (the build reads "
               "them as fitbit-deployer)", (LifecycleRule(30),), flags=flags_of(c, "build_bucket", "region")),
        Topic(c.units_topic, "work messages: scheduled runs and flushes, units, follow-ups",
              flags=flags_of(c, "units_topic")),
        Topic(c.dead_letter_topic, "messages the functions failed on max_delivery_attempts times",
              flags=flags_of(c, "units_topic")),
        Subscription(f"{c.dead_letter_topic}-hold", c.dead_letter_topic,
                     "keeps dead-lettered messages for inspection and replay (a topic alone keeps nothing)",
                     flags=flags_of(c, "units_topic")),
        Dataset(c.dataset, c.region, "Fitbit / Google Health API data loaded by the fitbit pipeline",
                flags=flags_of(c, "dataset", "region")),
        *tables_from_ddl(tables_sql, c.dataset),
        Secret(OAUTH_CLIENT_SECRET, "its version is added in docs/deploy.md step 6, from standard input; "
               f"{PARTICIPANT_SECRET_PREFIX}<id> secrets are created by scripts/authorise.py"),
        Secret(WEBHOOK_SECRET, "the webhook endpoint secret Google sends as Authorization (docs/deploy.md, "
               "webhooks); its version is added from standard input"),
        Secret(PARTICIPANT_INDEX_SECRET, "healthUserId → participant and time zone, no token: what notify reads "
               "instead of the grants; rewritten by scripts/authorise.py at each enrolment"),
        # Scheduler jobs publish to the units topic, which exists before any deploy: they are made here, by
        # the person provisioning, so the build needs no Cloud Scheduler rights and never resets them.
        SchedulerJob("fitbit-daily-run", c.region, f"0 {c.daily_hour} * * *", c.time_zone, c.units_topic,
                     bodies["run"], f"daily run over a {c.refetch_days}-day sliding window",
                     flags=flags_of(c, "region", "time_zone", "daily_hour", "refetch_days", "units_topic")),
        SchedulerJob("fitbit-hourly-flush", c.region, f"{c.flush_minute} * * * *", c.time_zone, c.units_topic,
                     bodies["flush"], "hourly MERGE of the staged rows into the tables",
                     flags=flags_of(c, "region", "time_zone", "flush_minute", "units_topic")),
        # Eventarc creates each trigger's subscription at deploy time: only then can its policy be set.
        *(TriggerDelivery(f.deployed_name, c.region, delivery, flags=delivery_flags)
          for f in FUNCTIONS if f.event_driven),
    ]

    project = Target("project", p)
    secrets = f"projects/{c.number}/secrets/"
    targets: dict[GrantTarget, tuple[Target, Condition | None]] = {
        "project": (project, None),
        "units-topic": (Target("topic", c.units_topic), None),
        "raw-bucket": (Target("bucket", c.raw_bucket), None),
        "staging-bucket": (Target("bucket", c.staging_bucket), None),
        "claims-bucket": (Target("bucket", c.claims_bucket), None),
        "dataset": (Target("dataset", c.dataset), None),
        "pipeline-secrets": (project, Condition(
            "fitbit-pipeline-secrets",
            f'resource.name.startsWith("{secrets}{PARTICIPANT_SECRET_PREFIX}") || '
            f'resource.name == "{secrets}{OAUTH_CLIENT_SECRET}" || '
            f'resource.name.startsWith("{secrets}{OAUTH_CLIENT_SECRET}/")')),
        "webhook-secrets": (project, Condition(
            "fitbit-webhook-secrets",
            " || ".join(f'resource.name == "{secrets}{name}" || resource.name.startsWith("{secrets}{name}/")'
                        for name in (WEBHOOK_SECRET, PARTICIPANT_INDEX_SECRET)))),
    }
    bindings: list[Binding] = []
    for f in FUNCTIONS:
        bindings += _function_bindings(f, identities[f.name], targets, p)
    bindings += [
        # Google-managed service agents.
        Binding(gcs_agent.member, "roles/pubsub.publisher", project,
                "Cloud Storage publishes object-finalized events to the topic behind the Eventarc trigger"),
        Binding(eventarc_agent.member, "roles/eventarc.serviceAgent", project,
                "the role Google grants on first use, granted ahead so the first storage trigger finds it"),
        Binding(pubsub_agent.member, "roles/pubsub.publisher", Target("topic", c.dead_letter_topic),
                "moves undeliverable messages to the dead-letter topic"),
        Binding(pubsub_agent.member, "roles/pubsub.subscriber", project,
                "acknowledges what it dead-letters from Eventarc's trigger subscriptions; on the project, "
                "because Eventarc names them at deploy time and Pub/Sub IAM takes no resource-name condition"),
        *(Binding(pubsub_agent.member, "roles/iam.serviceAccountTokenCreator",
                  Target("service-account", identities[f.name].email),
                  "signs the push tokens of the trigger identity: needed where the Pub/Sub agent predates "
                  "8 April 2021, harmless elsewhere, and on the one account instead of the project")
          for f in FUNCTIONS if f.event_driven),
        # The build's identities.
        Binding(deployer.member, "roles/cloudfunctions.developer", project, "deploys and updates the functions"),
        *(Binding(deployer.member, "roles/iam.serviceAccountUser", Target("service-account", sa.email),
                  f"attaches {sa.account_id} to what it deploys") for sa in (*identities.values(), builder)),
        Binding(deployer.member, "roles/storage.objectViewer", Target("bucket", c.build_bucket),
                "reads the source archive `gcloud builds submit --gcs-source-staging-dir` uploaded"),
        Binding(deployer.member, "roles/logging.logWriter", project,
                "writes the build's logs (a build run as a user-managed service account logs to Cloud Logging)"),
        Binding(deployer.member, post_deploy.name, project,
                "post-deploy phase: reads each function's Eventarc trigger and sets its subscription's dead-letter "
                "and retry policy; no IAM and no delete, but on the project (see the note below the table)"),
        Binding(builder.member, "roles/run.builder", project,
                "builds function containers: reads the uploaded source, pushes the image, writes build logs"),
    ]
    return Plan(config, tuple(resources), tuple(bindings))


def _function_bindings(f: CloudFunction, identity: ServiceAccount,
                       targets: dict[GrantTarget, tuple[Target, Condition | None]], project_id: str) -> list[Binding]:
    """The declared grants of one function's identity, plus what its trigger needs."""
    out = []
    for grant in f.grants:
        target, condition = targets[grant.on]
        role = grant.role if grant.role.startswith("roles/") else f"projects/{project_id}/roles/{grant.role}"
        out.append(Binding(identity.member, role, target, grant.reason, condition))
    project = targets["project"][0]
    if not f.event_driven:
        return out  # called over HTTP by Google's webhook sender: no trigger identity (docs/deploy.md)
    out.append(Binding(identity.member, "roles/run.invoker", project,
                       "trigger identity: Eventarc calls the function with its token. On the project, because "
                       "Cloud Run IAM takes no resource-name condition and the service exists only after the "
                       "deploy (a per-service grant would need a build that can set IAM policies)"))
    if f.trigger in DIRECT_EVENT_TRIGGERS:
        out.append(Binding(identity.member, "roles/eventarc.eventReceiver", project,
                           "trigger identity of a direct event trigger (Cloud Storage); Pub/Sub triggers need none"))
    return out
