"""Provisioning as a plan: least privilege, the resources' settings, the phases, and an idempotent applier."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from fitbit import messages as events
from helper import compose, secrets
from tools import provisioning as pv
from tools.provisioning import clients as clients_module
from helper.settings import Settings
from tools.provisioning import apply as provision

ROOT = Path(__file__).resolve().parents[2]
TABLES_SQL = (ROOT / "bigquery_sql" / "create_tables.sql").read_text()
PROJECT, NUMBER = "demo-project", "123456789012"
CONFIG = pv.Config(PROJECT, project_number=NUMBER)
PLAN = pv.build_plan(CONFIG, TABLES_SQL)
EXTRACT = "serviceAccount:fitbit-extract@demo-project.iam.gserviceaccount.com"
TRANSFORM = "serviceAccount:fitbit-transform-load@demo-project.iam.gserviceaccount.com"


def _of(kind: type) -> list:
    return [r for r in PLAN.resources if isinstance(r, kind)]


def _roles(member: str) -> set[tuple[str, str, str]]:
    return {(role, t.kind, t.name) for role, t in PLAN.roles_of(member)}


# --- least privilege -----------------------------------------------------------------------------------


def test_no_service_account_holds_a_primitive_role_on_anything():
    service_account_grants = [b for b in PLAN.bindings if b.member.startswith("serviceAccount:")]
    assert service_account_grants
    assert not [b.describe() for b in service_account_grants if b.role in pv.PRIMITIVE_ROLES]


def test_the_extract_identity_holds_exactly_the_roles_one_api_request_per_message_needs():
    raw = CONFIG.raw_bucket
    assert _roles(EXTRACT) == {
        ("roles/pubsub.publisher", "topic", "fitbit-units"),
        ("roles/storage.objectCreator", "bucket", raw),
        ("roles/storage.objectViewer", "bucket", raw),
        ("roles/secretmanager.secretAccessor", "project", PROJECT),
        (f"projects/{PROJECT}/roles/fitbitSecretLister", "project", PROJECT),
        ("roles/run.invoker", "run-service", "fitbit-extract"),
    }


def test_the_transform_load_identity_holds_exactly_the_roles_parsing_staging_and_merging_need():
    assert _roles(TRANSFORM) == {
        ("roles/storage.objectViewer", "bucket", CONFIG.raw_bucket),
        ("roles/storage.objectAdmin", "bucket", CONFIG.staging_bucket),
        ("roles/bigquery.dataEditor", "dataset", "fitbit"),
        ("roles/bigquery.jobUser", "project", PROJECT),
        ("roles/pubsub.publisher", "topic", "fitbit-units"),
        ("roles/eventarc.eventReceiver", "project", PROJECT),
        ("roles/run.invoker", "run-service", "fitbit-transform-load"),
    }


def test_the_storage_trigger_can_publish_through_the_cloud_storage_service_agent():
    agent = f"serviceAccount:service-{NUMBER}@gs-project-accounts.iam.gserviceaccount.com"
    assert _roles(agent) == {("roles/pubsub.publisher", "project", PROJECT)}


def test_the_secret_accessor_grant_is_limited_by_name_to_the_participant_and_oauth_client_secrets():
    (grant,) = [b for b in PLAN.bindings if b.role == "roles/secretmanager.secretAccessor"]
    expression = grant.condition.expression
    prefix = f"projects/{NUMBER}/secrets/"
    assert f'resource.name.startsWith("{prefix}{secrets.PARTICIPANT_PREFIX}")' in expression
    assert f'resource.name == "{prefix}{secrets.OAUTH_CLIENT_SECRET}"' in expression
    assert expression.count("resource.name") == 3
    assert dict(pv.Secret("x", "y").labels) == dict([secrets.APP_LABEL])  # what SecretManagerStore.names filters on


def test_the_custom_roles_carry_only_the_permissions_their_reasons_name():
    roles = {r.role_id: set(r.permissions) for r in _of(pv.CustomRole)}
    assert roles["fitbitSecretLister"] == {"secretmanager.secrets.list"}
    assert all(p.split(".")[0] in {"eventarc", "pubsub", "run"} for p in roles["fitbitPostDeploy"])
    assert not [p for p in roles["fitbitPostDeploy"] if p.endswith((".delete", ".create", ".publish"))]


# --- resources -------------------------------------------------------------------------------------------


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


def test_the_trigger_subscriptions_dead_letter_to_a_topic_the_pubsub_agent_may_publish_to():
    agent = f"serviceAccount:service-{NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"
    policies = {t.function: t.delivery for t in _of(pv.TriggerDelivery)}
    assert set(policies) == set(pv.FUNCTION_NAMES.values())
    for delivery in policies.values():
        assert delivery.dead_letter_topic == "fitbit-units-dead-letter"
        assert 5 <= delivery.max_delivery_attempts <= 100 and delivery.max_retry_delay_s <= 600
    assert ("roles/pubsub.publisher", "topic", "fitbit-units-dead-letter") in _roles(agent)
    assert {("roles/pubsub.subscriber", "trigger-subscription", f) for f in policies} <= _roles(agent)
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


def test_only_what_exists_after_a_deploy_is_left_to_the_post_deploy_phase():
    resources, bindings = PLAN.phase("post-deploy")
    assert {r.kind for r in resources} == {"trigger-subscription", "scheduler-job"}
    assert {b.target.kind for b in bindings} == {"run-service", "trigger-subscription"}
    assert len(PLAN.phase("pre-deploy")[0]) + len(resources) == len(PLAN.resources)


@pytest.mark.parametrize(("change", "field"), [
    ({"project": "Bad_Project"}, "project"),
    ({"daily_hour": 24}, "daily_hour"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"raw_nearline_after_days": 400, "raw_delete_after_days": 30}, "raw_delete_after_days"),
    ({"max_delivery_attempts": 101}, "max_delivery_attempts"),
    ({"raw_bucket": "x" * 60}, "bucket name"),
    ({"project_number": "12ab"}, "project_number"),
])
def test_an_invalid_configuration_is_refused_naming_the_field(change, field):
    with pytest.raises(ValueError, match=field):
        pv.Config(**{"project": PROJECT, **change})


# --- command line and docs --------------------------------------------------------------------------------


def test_the_dry_run_prints_every_resource_and_every_binding_with_its_role(capsys):
    assert provision.main(["--project", PROJECT, "--project-number", NUMBER, "--dry-run"]) == 0
    printed = capsys.readouterr().out
    for resource in PLAN.resources:
        assert resource.describe() in printed
    for binding in PLAN.bindings:
        assert binding.describe() in printed
        assert binding.role in binding.describe()


def test_the_docs_role_table_is_the_plans(capsys):
    docs = (ROOT / "docs" / "deploy.md").read_text()
    table = pv.build_plan(pv.Config("my-project"), TABLES_SQL).role_table()
    assert table in docs, "docs/deploy.md's role table is stale: paste `scripts/provision.py --project " \
                          "my-project --roles-table`"


def test_the_docs_enable_exactly_the_apis_provisioning_enables():
    docs = (ROOT / "docs" / "deploy.md").read_text()
    (line,) = [text for text in docs.splitlines() if text.startswith("gcloud services enable ")]
    assert line.split()[3:] == list(pv.APIS)


def test_every_knob_the_docs_list_is_a_flag_of_the_provisioning_script():
    docs = (ROOT / "docs" / "deploy.md").read_text()
    table = docs.split("The knobs are flags", 1)[1].split("\n\n")[1]
    documented = {flag for row in table.splitlines()[2:] for flag in re.findall(r"`(--[a-z-]+)`", row.split("|")[1])}
    accepted = {option for action in provision._parser()._actions for option in action.option_strings}
    assert len(documented) >= 10 and documented <= accepted, documented - accepted


# --- applying ---------------------------------------------------------------------------------------------


class FakeGcloud:
    """Just enough of gcloud's behaviour: describe answers from state, create/update change it."""

    def __init__(self) -> None:
        self.state: dict[str, dict] = {}
        self.enabled: set[str] = set()
        self.grants: set[tuple] = set()
        self.calls: list[list[str]] = []

    def __call__(self, args: list[str]) -> provision.Result:
        self.calls.append(args)
        words = [a for a in args if not a.startswith("--")]
        flags = dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)
        if any(w.endswith("-policy-binding") for w in words):
            self.grants.add((tuple(words), flags.get("member"), flags.get("role"), flags.get("condition")))
            return provision.Result(0)
        if words[:3] == ["projects", "describe", PROJECT]:
            return provision.Result(0, NUMBER + "\n")
        if words[:2] == ["functions", "describe"]:
            return provision.Result(0, f"projects/{PROJECT}/locations/europe-west1/triggers/{words[2]}-1\n")
        if words[:3] == ["eventarc", "triggers", "describe"]:
            return provision.Result(0, f"projects/{PROJECT}/subscriptions/eventarc-{words[3].rsplit('/', 1)[1]}\n")
        if words[:2] == ["services", "list"]:
            return provision.Result(0, "\n".join(sorted(self.enabled)))
        if words[:2] == ["services", "enable"]:
            self.enabled |= set(words[2:])
            return provision.Result(0)
        if words[:2] in (["storage", "service-agent"], ["beta", "services"]):
            return provision.Result(0)
        verb_at = next((i for i, w in enumerate(words) if w in ("describe", "create", "update", "undelete")), None)
        if verb_at is None:
            return provision.Result(2, "", f"fake gcloud does not know {args}")
        kind, verb, rest = " ".join(words[:verb_at]), words[verb_at], words[verb_at + 1:]
        name = rest[1] if rest[:1] == ["pubsub"] else rest[0]
        if kind == "iam service-accounts" and verb == "create":
            name = f"{name}@{PROJECT}.iam.gserviceaccount.com"
        store = self.state.setdefault(kind, {})
        if verb == "describe":
            found = name in store
            return provision.Result(0, json.dumps(store[name])) if found else provision.Result(1, "", "NOT_FOUND")
        if verb == "create" and name in store:
            return provision.Result(1, "", "ALREADY_EXISTS")
        if verb != "undelete":
            store[name] = self._resource(kind, flags)
        return provision.Result(0)

    @staticmethod
    def _resource(kind: str, flags: dict[str, str]) -> dict:
        if kind == "iam roles":
            return {"title": flags["title"], "includedPermissions": flags["permissions"].split(",")}
        if kind == "pubsub subscriptions":
            return {"deadLetterPolicy": {"deadLetterTopic": flags["dead-letter-topic"],
                                         "maxDeliveryAttempts": int(flags["max-delivery-attempts"])},
                    "retryPolicy": {"minimumBackoff": flags["min-retry-delay"],
                                    "maximumBackoff": flags["max-retry-delay"]}}
        if kind == "scheduler jobs":
            return {"schedule": flags["schedule"], "timeZone": flags["time-zone"], "description": flags["description"],
                    "pubsubTarget": {"topicName": flags["topic"],
                                     "data": base64.b64encode(flags["message-body"].encode()).decode()}}
        return dict(flags)

    def mutations(self) -> list[list[str]]:
        """Calls that change something; `services identity create` only returns the existing agent."""
        return [c for c in self.calls if {"create", "update", "enable", "undelete"} & set(c) and "identity" not in c]


class FakeClients:
    """The client-library half, keyed by what exists; the emulator test runs the real one."""

    def __init__(self) -> None:
        self.existing: set[tuple[str, str]] = set()
        self.created: list[tuple[str, str]] = []

    def _ensure(self, kind: str, name: str) -> str:
        if (kind, name) in self.existing:
            return "unchanged"
        self.existing.add((kind, name))
        self.created.append((kind, name))
        return "created"

    def bucket(self, spec):
        return self._ensure("bucket", spec.name)

    def topic(self, spec):
        return self._ensure("topic", spec.name)

    def subscription(self, spec):
        return self._ensure("subscription", spec.name)

    def dataset(self, spec):
        return self._ensure("dataset", spec.name)

    def table(self, spec):
        return self._ensure("table", spec.name)

    def grant_dataset(self, binding):
        return self._ensure("grant", f"{binding.member} {binding.role}")


def _apply(gcloud: FakeGcloud, clients: FakeClients, *phase: str) -> int:
    return provision.main(["--project", PROJECT, "--phase", *(phase or ["all"])], runner=gcloud, clients=clients)


def test_applying_twice_changes_nothing_the_second_time(capsys):
    gcloud, clients = FakeGcloud(), FakeClients()
    assert _apply(gcloud, clients) == 0
    first_mutations, first_created = len(gcloud.mutations()), len(clients.created)
    client_resources = [r for r in PLAN.resources if r.kind in provision.CLIENT_KINDS]
    assert first_mutations and len([c for c in clients.created if c[0] != "grant"]) == len(client_resources)
    grants = set(gcloud.grants)
    capsys.readouterr()
    assert _apply(gcloud, clients) == 0
    assert len(gcloud.mutations()) == first_mutations, gcloud.mutations()[first_mutations:]
    assert len(clients.created) == first_created
    assert gcloud.grants == grants
    second = capsys.readouterr().out.splitlines()
    assert not [line for line in second if line.split()[0] in {"created", "updated", "enabled"}]


def test_the_applier_grants_every_binding_of_the_plan_once_per_run(capsys):
    gcloud, clients = FakeGcloud(), FakeClients()
    assert _apply(gcloud, clients) == 0
    granted = {(member, role or "roles/run.invoker") for words, member, role, _ in gcloud.grants}
    granted |= {tuple(name.split(" ")) for kind, name in clients.existing if kind == "grant"}
    invokes = [words for words, *_ in gcloud.grants if "add-invoker-policy-binding" in words]
    assert {(b.member, b.role) for b in PLAN.bindings} == granted
    assert sorted(w[2] for w in invokes) == sorted(pv.FUNCTION_NAMES.values())


def test_project_grants_always_say_which_condition_because_non_interactive_gcloud_requires_it(capsys):
    gcloud = FakeGcloud()
    assert _apply(gcloud, FakeClients(), "pre-deploy") == 0
    project_grants = [g for g in gcloud.grants if g[0][:2] == ("projects", "add-iam-policy-binding")]
    assert project_grants
    conditions = {g[3] for g in project_grants}
    assert "None" in conditions
    (conditional,) = [c for c in conditions if c != "None"]
    assert conditional.startswith("expression=resource.name.startsWith(") and f"projects/{NUMBER}/" in conditional


def test_post_deploy_sets_the_dead_letter_policy_on_the_subscription_eventarc_created(capsys):
    gcloud = FakeGcloud()
    assert _apply(gcloud, FakeClients(), "post-deploy") == 0
    updated = [c for c in gcloud.calls if c[:3] == ["pubsub", "subscriptions", "update"]]
    assert [c[3] for c in updated] == [f"projects/{PROJECT}/subscriptions/eventarc-{f}-1"
                                       for f in ("fitbit-extract", "fitbit-transform-load")]
    assert f"--dead-letter-topic=projects/{PROJECT}/topics/fitbit-units-dead-letter" in updated[0]
    assert not [c for c in gcloud.calls if "create" in c and "scheduler" not in c]


def test_post_deploy_before_the_functions_exist_says_to_deploy_first(capsys):
    gcloud = FakeGcloud()

    def undeployed(args: list[str]) -> provision.Result:
        return provision.Result(0, "\n") if args[:2] == ["functions", "describe"] else gcloud(args)

    assert provision.main(["--project", PROJECT, "--phase", "post-deploy"], runner=undeployed,
                          clients=FakeClients()) == 1
    assert "deploy it first" in capsys.readouterr().err


def test_a_grant_to_a_just_created_service_account_is_retried_until_iam_sees_it():
    answers = [provision.Result(1, "", "Service account x does not exist."), provision.Result(0)]
    slept: list[float] = []
    gcloud = provision.Gcloud(PROJECT, lambda args: answers.pop(0), sleep=slept.append)
    assert gcloud.run("projects", "add-iam-policy-binding", PROJECT, retry_missing=True).returncode == 0
    assert slept == [2]


# --- the client-library half, offline (the emulator tier runs it against the emulators) ---------------------


def _raw_bucket_spec(config: pv.Config = CONFIG) -> pv.Bucket:
    return next(r for r in pv.build_plan(config, TABLES_SQL).resources
                if isinstance(r, pv.Bucket) and r.name == config.raw_bucket)


def test_a_bucket_is_configured_with_the_json_api_fields_that_make_it_private_and_age_its_objects():
    from google.cloud import storage

    bucket = storage.Bucket(client=None, name=CONFIG.raw_bucket)
    assert not clients_module._bucket_matches(bucket, _raw_bucket_spec())
    clients_module._configure_bucket(bucket, _raw_bucket_spec())
    sent = bucket._properties
    assert sent["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"] is True
    assert sent["iamConfiguration"]["publicAccessPrevention"] == "enforced"
    assert sent["lifecycle"]["rule"] == [
        {"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"},
         "condition": {"age": 30, "matchesStorageClass": ["STANDARD"]}},
        {"action": {"type": "Delete"}, "condition": {"age": 400}},
    ]
    assert clients_module._bucket_matches(bucket, _raw_bucket_spec())
    shorter = _raw_bucket_spec(replace(CONFIG, raw_delete_after_days=200))
    assert not clients_module._bucket_matches(bucket, shorter)


def test_the_dataset_grant_recognises_bigquerys_basic_role_spelling_of_data_editor():
    from google.cloud import bigquery

    class Bq:
        updates = 0

        def __init__(self, entries: list) -> None:
            self.dataset = bigquery.Dataset(f"{PROJECT}.fitbit")
            self.dataset.access_entries = entries

        def get_dataset(self, ref: str):
            return self.dataset

        def update_dataset(self, dataset, fields):
            Bq.updates += 1
            self.dataset = dataset

    (grant,) = [b for b in PLAN.bindings if b.target.kind == "dataset"]
    email = grant.member.partition(":")[2]
    as_stored = Bq([bigquery.AccessEntry("WRITER", "userByEmail", email)])
    assert clients_module.CloudClients(PROJECT, None, None, None, as_stored).grant_dataset(grant) == "unchanged"
    empty = Bq([])
    client = clients_module.CloudClients(PROJECT, None, None, None, empty)
    assert client.grant_dataset(grant) == "granted"
    assert client.grant_dataset(grant) == "unchanged" and Bq.updates == 1
