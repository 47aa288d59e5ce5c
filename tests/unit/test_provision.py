"""Provisioning as a plan: least privilege, every flag on the resource it sets in the phase that creates it,
the phases, the command line and the docs. Applying a plan: tests/unit/test_provision_apply.py."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from fitbit import messages as events
from helper import compose, secrets
from helper.settings import Settings
from tools import provisioning as pv
from tools.cloud_functions import FUNCTIONS
from tools.provisioning import cli as provision
from tools.provisioning.config import flag, substitution

ROOT = Path(__file__).resolve().parents[2]
TABLES_SQL = (ROOT / "bigquery_sql" / "create_tables.sql").read_text()
PROJECT, NUMBER = "demo-project", "123456789012"
CONFIG = pv.Config(PROJECT, project_number=NUMBER)
PLAN = pv.build_plan(CONFIG, TABLES_SQL)
EXTRACT = "serviceAccount:fitbit-extract@demo-project.iam.gserviceaccount.com"
TRANSFORM = "serviceAccount:fitbit-transform-load@demo-project.iam.gserviceaccount.com"
NOTIFY = "serviceAccount:fitbit-notify@demo-project.iam.gserviceaccount.com"
DEPLOYER = "serviceAccount:fitbit-deployer@demo-project.iam.gserviceaccount.com"
PUBSUB_AGENT = f"serviceAccount:service-{NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"
EVENTARC_AGENT = f"serviceAccount:service-{NUMBER}@gcp-sa-eventarc.iam.gserviceaccount.com"
# Predefined roles that can change IAM policies or administer a whole service: no identity of ours holds one.
ADMIN_ROLES = {"roles/owner", "roles/editor", "roles/resourcemanager.projectIamAdmin", "roles/iam.securityAdmin",
               "roles/cloudscheduler.admin", "roles/run.admin", "roles/pubsub.admin", "roles/storage.admin",
               "roles/storage.objectAdmin", "roles/bigquery.admin", "roles/secretmanager.admin",
               "roles/cloudfunctions.admin", "roles/eventarc.admin"}


def _of(kind: type) -> list:
    return [r for r in PLAN.resources if isinstance(r, kind)]


def _roles(member: str) -> set[tuple[str, str, str]]:
    return {(role, t.kind, t.name) for role, t in PLAN.roles_of(member)}


# --- least privilege -----------------------------------------------------------------------------------


def test_no_service_account_holds_a_primitive_or_admin_role_on_anything():
    service_account_grants = [b for b in PLAN.bindings if b.member.startswith("serviceAccount:")]
    assert service_account_grants
    assert not [b.describe() for b in service_account_grants if b.role in pv.PRIMITIVE_ROLES | ADMIN_ROLES]


def test_no_custom_role_can_change_an_iam_policy_or_delete_anything():
    permissions = [p for r in _of(pv.CustomRole) for p in r.permissions]
    assert not [p for p in permissions if p.endswith(("setIamPolicy", ".delete", ".create", ".publish"))]


def test_the_extract_identity_holds_exactly_the_roles_one_api_request_per_message_needs():
    raw = CONFIG.raw_bucket
    assert _roles(EXTRACT) == {
        ("roles/pubsub.publisher", "topic", "fitbit-units"),
        ("roles/storage.objectCreator", "bucket", raw),
        ("roles/storage.objectViewer", "bucket", raw),
        ("roles/secretmanager.secretAccessor", "project", PROJECT),
        (f"projects/{PROJECT}/roles/fitbitSecretLister", "project", PROJECT),
        ("roles/run.invoker", "project", PROJECT),
    }


def test_the_transform_load_identity_holds_exactly_the_roles_parsing_staging_and_merging_need():
    assert _roles(TRANSFORM) == {
        ("roles/storage.objectViewer", "bucket", CONFIG.raw_bucket),
        ("roles/storage.objectUser", "bucket", CONFIG.staging_bucket),
        ("roles/bigquery.dataEditor", "dataset", "fitbit"),
        ("roles/bigquery.jobUser", "project", PROJECT),
        ("roles/pubsub.publisher", "topic", "fitbit-units"),
        ("roles/eventarc.eventReceiver", "project", PROJECT),
        ("roles/run.invoker", "project", PROJECT),
    }


def test_the_notify_identity_publishes_units_claims_keys_and_reads_two_secrets_but_no_token():
    assert _roles(NOTIFY) == {
        ("roles/pubsub.publisher", "topic", "fitbit-units"),
        ("roles/storage.objectCreator", "bucket", CONFIG.claims_bucket),
        ("roles/storage.objectCreator", "bucket", CONFIG.raw_bucket),
        ("roles/secretmanager.secretAccessor", "project", PROJECT),
    }  # no run.invoker: an HTTP function has no trigger identity; no lister: it reads secrets by name
    (grant,) = [b for b in PLAN.bindings if b.member == NOTIFY and b.role == "roles/secretmanager.secretAccessor"]
    prefix = f"projects/{NUMBER}/secrets/"
    expression = grant.condition.expression
    for name in ("webhook-authorization", "webhook-participants"):
        assert f'resource.name == "{prefix}{name}"' in expression
        assert f'resource.name.startsWith("{prefix}{name}/")' in expression  # its versions
    assert "participant-" not in expression.replace("webhook-participants", "")
    assert "oauth-client" not in expression and expression.count("resource.name") == 4


def test_the_webhook_secret_names_are_the_ones_the_runtime_reads():
    from helper import webhooks
    from tools.provisioning import config

    assert (config.WEBHOOK_SECRET, config.PARTICIPANT_INDEX_SECRET) == (webhooks.WEBHOOK_SECRET,
                                                                        webhooks.PARTICIPANT_INDEX)
    assert {pv.Secret} and {"webhook-authorization", "webhook-participants"} <= {s.name for s in _of(pv.Secret)}


def test_claims_live_in_a_bucket_without_a_trigger_whose_objects_are_deleted_after_a_day():
    claims = next(b for b in _of(pv.Bucket) if b.name == CONFIG.claims_bucket)
    assert claims.lifecycle == (pv.LifecycleRule(1),) and claims.public_access_prevention == "enforced"
    assert Settings(runtime="gcp", gcp_project=PROJECT, raw_bucket=CONFIG.raw_bucket).claims_bucket == claims.name


def test_only_a_direct_event_trigger_gets_the_event_receiver_role():
    receivers = {b.member for b in PLAN.bindings if b.role == "roles/eventarc.eventReceiver"}
    assert receivers == {f"serviceAccount:{f.account_id}@{PROJECT}.iam.gserviceaccount.com" for f in FUNCTIONS
                         if f.trigger == "raw-bucket"}


def test_the_deployer_can_deploy_and_set_delivery_policies_but_holds_no_scheduler_or_iam_role():
    roles = {role for role, _, _ in _roles(DEPLOYER)}
    assert roles == {"roles/cloudfunctions.developer", "roles/iam.serviceAccountUser", "roles/storage.objectViewer",
                     "roles/logging.logWriter", f"projects/{PROJECT}/roles/fitbitPostDeploy"}
    users = {name for role, kind, name in _roles(DEPLOYER) if role == "roles/iam.serviceAccountUser"}
    assert users == {f"{a}@{PROJECT}.iam.gserviceaccount.com"
                     for a in (*(f.account_id for f in FUNCTIONS), "fitbit-builder")}


def test_the_storage_trigger_can_publish_through_the_cloud_storage_service_agent():
    agent = f"serviceAccount:service-{NUMBER}@gs-project-accounts.iam.gserviceaccount.com"
    assert _roles(agent) == {("roles/pubsub.publisher", "project", PROJECT)}


def test_the_pubsub_agent_dead_letters_and_signs_push_tokens_for_the_trigger_identities_only():
    tokens = {(role, kind, name) for role, kind, name in _roles(PUBSUB_AGENT) if "TokenCreator" in role}
    assert tokens == {("roles/iam.serviceAccountTokenCreator", "service-account",
                       f"{f.account_id}@{PROJECT}.iam.gserviceaccount.com") for f in FUNCTIONS if f.event_driven}
    assert _roles(PUBSUB_AGENT) - tokens == {("roles/pubsub.publisher", "topic", "fitbit-units-dead-letter"),
                                             ("roles/pubsub.subscriber", "project", PROJECT)}


def test_the_eventarc_agent_is_created_and_granted_before_the_first_deploy():
    agents = {r.service: r for r in _of(pv.ServiceAgent)}
    assert set(agents) == {"storage.googleapis.com", "pubsub.googleapis.com", "eventarc.googleapis.com"}
    assert agents["eventarc.googleapis.com"].phase == "pre-deploy"
    assert _roles(EVENTARC_AGENT) == {("roles/eventarc.serviceAgent", "project", PROJECT)}


def test_the_secret_accessor_grant_is_limited_by_name_to_the_participant_and_oauth_client_secrets():
    (grant,) = [b for b in PLAN.bindings if b.role == "roles/secretmanager.secretAccessor" and b.member == EXTRACT]
    expression = grant.condition.expression
    prefix = f"projects/{NUMBER}/secrets/"
    assert f'resource.name.startsWith("{prefix}{secrets.PARTICIPANT_PREFIX}")' in expression
    assert f'resource.name == "{prefix}{secrets.OAUTH_CLIENT_SECRET}"' in expression
    assert expression.count("resource.name") == 3
    assert dict(pv.Secret("x", "y").labels) == dict([secrets.APP_LABEL])  # what SecretManagerStore.names filters on


def test_the_custom_roles_carry_only_the_permissions_their_reasons_name():
    roles = {r.role_id: set(r.permissions) for r in _of(pv.CustomRole)}
    assert roles["fitbitSecretLister"] == {"secretmanager.secrets.list"}
    assert roles["fitbitPostDeploy"] == {"eventarc.triggers.get", "pubsub.subscriptions.get",
                                         "pubsub.subscriptions.update", "pubsub.topics.attachSubscription"}


# --- resources and phases ----------------------------------------------------------------------------------


def test_the_raw_bucket_is_private_uniform_and_ages_to_nearline_then_is_deleted():
    raw = next(b for b in _of(pv.Bucket) if b.name == CONFIG.raw_bucket)
    assert raw.uniform_access and raw.public_access_prevention == "enforced"
    assert raw.location == CONFIG.region
    assert raw.lifecycle == (pv.LifecycleRule(30, "NEARLINE"), pv.LifecycleRule(400))


def test_the_raw_lifecycle_is_configurable_and_zero_days_keeps_raw_objects_forever():
    plan = pv.build_plan(replace(CONFIG, raw_nearline_after_days=60, raw_delete_after_days=0), TABLES_SQL)
    raw = next(r for r in plan.resources if isinstance(r, pv.Bucket) and r.name == CONFIG.raw_bucket)
    assert raw.lifecycle == (pv.LifecycleRule(60, "NEARLINE"),)


def test_the_staging_bucket_is_the_one_the_bigquery_warehouse_stages_to():
    settings = Settings(runtime="gcp", gcp_project=PROJECT, raw_bucket=CONFIG.raw_bucket)
    warehouse = compose.adapters(settings).warehouse_factory()
    assert warehouse.staging_bucket == CONFIG.staging_bucket
    assert CONFIG.staging_bucket in {b.name for b in _of(pv.Bucket)}


def test_each_declared_function_gets_an_identity_and_a_delivery_policy_on_its_trigger_subscription():
    policies = {t.function: t.delivery for t in _of(pv.TriggerDelivery)}
    assert set(policies) == {f.deployed_name for f in FUNCTIONS if f.event_driven}
    assert {f.deployed_name for f in FUNCTIONS} == set(pv.FUNCTION_NAMES.values())
    assert {f"{f.account_id}@{PROJECT}.iam.gserviceaccount.com" for f in FUNCTIONS} <= {
        r.email for r in _of(pv.ServiceAccount)}
    for delivery in policies.values():
        assert delivery.dead_letter_topic == "fitbit-units-dead-letter"
        assert 5 <= delivery.max_delivery_attempts <= 100 and delivery.max_retry_delay_s <= 600
    hold = next(s for s in _of(pv.Subscription) if s.topic == "fitbit-units-dead-letter")
    assert hold.retention_days == 7


def test_every_catalogue_table_is_created_from_the_generated_ddl_with_the_dataset_substituted():
    from fitbit.catalogue import all_tables

    tables = _of(pv.Table)
    assert [t.name for t in tables] == [t.name for t in all_tables()]
    for table in tables:
        assert table.ddl.startswith(f"CREATE TABLE IF NOT EXISTS `fitbit.{table.name}`")
        assert "${dataset}" not in table.ddl and table.ddl.endswith(";")


def test_the_ddl_splitter_keeps_semicolons_inside_quotes_and_skips_comment_lines():
    sql = "-- header; not a statement\nCREATE TABLE IF NOT EXISTS `d.a` (x STRING OPTIONS(description='a;b\\'c'));\n" \
          "CREATE TABLE IF NOT EXISTS `d.b` (y INT64);\n"
    assert [s.split("`")[1] for s in pv.split_statements(sql)] == ["d.a", "d.b"]
    assert "'a;b\\'c'" in pv.split_statements(sql)[0]


def test_a_ddl_statement_that_would_replace_a_table_is_refused():
    with pytest.raises(ValueError, match="unexpected statement"):
        pv.tables_from_ddl("CREATE OR REPLACE TABLE `${dataset}.t` (x INT64);", "fitbit")


def test_the_scheduler_publishes_a_daily_run_and_an_hourly_flush_that_the_pipeline_decodes():
    plan = pv.build_plan(replace(CONFIG, daily_hour=5, time_zone="Europe/London", refetch_days=4), TABLES_SQL)
    jobs = {j.name: j for j in plan.resources if isinstance(j, pv.SchedulerJob)}
    run, flush = jobs["fitbit-daily-run"], jobs["fitbit-hourly-flush"]
    assert (run.schedule, run.time_zone, run.topic) == ("0 5 * * *", "Europe/London", "fitbit-units")
    assert events.decode(run.body.encode()) == events.RunTrigger(days=4, reason="daily", run_id="scheduled")
    assert re.fullmatch(r"\d+ \* \* \* \*", flush.schedule) and flush.topic == "fitbit-units"
    assert isinstance(events.decode(flush.body.encode()), events.FlushTrigger)


def test_only_what_exists_after_a_deploy_is_left_to_the_post_deploy_phase_and_no_grant_waits_for_it():
    resources, bindings = PLAN.phase("post-deploy")
    assert {r.kind for r in resources} == {"trigger-subscription"} and bindings == ()
    assert {r.kind for r in PLAN.phase("pre-deploy")[0]} >= {"scheduler-job", "service-agent"}
    assert len(PLAN.phase("pre-deploy")[0]) + len(resources) == len(PLAN.resources)


@pytest.mark.parametrize(("change", "field"), [
    ({"project": "Bad_Project"}, "project"),
    ({"daily_hour": 24}, "daily_hour"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"time_zone": "not a zone"}, "time_zone"),
    ({"raw_nearline_after_days": 400, "raw_delete_after_days": 30}, "raw_delete_after_days"),
    ({"max_delivery_attempts": 101}, "max_delivery_attempts"),
    ({"raw_bucket": "x" * 60}, "bucket name"),
    ({"project_number": "12ab"}, "project_number"),
])
def test_an_invalid_configuration_is_refused_naming_the_field(change, field):
    with pytest.raises(ValueError, match=field):
        pv.Config(**{"project": PROJECT, **change})


# --- every flag reaches its resource ------------------------------------------------------------------------

# A value other than the default for every flag, and where the applier must have put it.
NON_DEFAULT = {
    "region": "europe-west4", "raw_bucket": "study-raw", "build_bucket": "study-build", "units_topic": "study-units",
    "dataset": "study", "time_zone": "Europe/London", "daily_hour": 5, "flush_minute": 15, "refetch_days": 4,
    "raw_nearline_after_days": 45, "raw_delete_after_days": 500, "staging_delete_after_days": 9,
    "max_delivery_attempts": 12, "min_retry_delay_s": 7, "max_retry_delay_s": 300,
}


def test_every_flag_but_the_project_configures_a_resource_of_the_plan():
    assert set(NON_DEFAULT) | provision.GLOBAL_FIELDS == set(pv.FIELDS)
    for name in NON_DEFAULT:
        assert PLAN.uses(name), f"{flag(name)} configures nothing"


def test_the_dry_run_shows_each_flags_value_on_the_resource_it_configures_in_its_phase(capsys):
    args = [a for name, value in NON_DEFAULT.items() for a in (flag(name), str(value))]
    assert provision.main(["--project", PROJECT, "--project-number", NUMBER, "--dry-run", *args]) == 0
    printed = capsys.readouterr().out
    sections = dict(zip(("pre-deploy", "post-deploy"), re.split(r"\n(?:pre|post)-deploy: ", printed)[1:]))
    plan = pv.build_plan(pv.Config(PROJECT, project_number=NUMBER, **NON_DEFAULT), TABLES_SQL)
    for name, value in NON_DEFAULT.items():
        for phase, resource in plan.uses(name):
            (line,) = [ln for ln in sections[phase].splitlines() if resource.describe() in ln]
            assert f"{flag(name)}={value}" in line.split("  [", 1)[1], (name, line)


def test_the_substitutions_are_the_build_fields_with_their_values(capsys):
    assert provision.main(["--project", PROJECT, "--substitutions", "--max-retry-delay-s", "300"]) == 0
    printed = dict(pair.split("=", 1) for pair in capsys.readouterr().out.strip().split(","))
    assert set(printed) == {substitution(f) for f in PLAN.build_fields()}
    assert printed["_MAX_RETRY_DELAY_S"] == "300" and printed["_RAW_BUCKET"] == f"{PROJECT}-fitbit-raw"


# --- command line and docs --------------------------------------------------------------------------------


def test_the_dry_run_prints_every_resource_and_every_binding_with_its_role(capsys):
    assert provision.main(["--project", PROJECT, "--project-number", NUMBER, "--dry-run"]) == 0
    printed = capsys.readouterr().out
    for resource in PLAN.resources:
        assert resource.describe() in printed
    for binding in PLAN.bindings:
        assert binding.describe() in printed
        assert binding.role in binding.describe()


def test_the_docs_role_table_is_the_plans():
    docs = (ROOT / "docs" / "deploy.md").read_text()
    table = pv.build_plan(pv.Config("my-project"), TABLES_SQL).role_table()
    assert table in docs, "docs/deploy.md's role table is stale: paste `scripts/provision.py --project " \
                          "my-project --roles-table`"


def test_the_docs_flag_table_is_the_one_provision_help_describes():
    docs = (ROOT / "docs" / "deploy.md").read_text()
    table = pv.build_plan(pv.Config("my-project"), TABLES_SQL).flags_table()
    assert table in docs, "docs/deploy.md's flag table is stale: paste `scripts/provision.py --project " \
                          "my-project --flags-table`"
    documented = re.findall(r"^\| `(--[a-z-]+)` \| ([^|]+) \| ([^|]+) \|", table, re.MULTILINE)
    actions = {a.option_strings[0]: a for a in provision._parser()._actions if a.option_strings}
    config_flags = {flag(f) for f in pv.FIELDS}
    assert {d[0] for d in documented} == config_flags <= set(actions)
    for option, default, meaning in documented:
        assert actions[option].help.startswith(meaning.strip()), option
        if default.strip().startswith("`"):
            assert default.strip().strip("`") in actions[option].help, option


def test_the_docs_enable_exactly_the_apis_provisioning_enables():
    docs = (ROOT / "docs" / "deploy.md").read_text()
    (line,) = [text for text in docs.splitlines() if text.startswith("gcloud services enable ")]
    assert line.split()[3:] == list(pv.APIS)
