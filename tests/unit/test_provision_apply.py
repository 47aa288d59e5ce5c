"""Applying a provisioning plan: every step looks first, every flag reaches its resource, and the output
says truthfully what changed (``granted`` only when the IAM policy lacked the grant, ``unchanged`` otherwise).

gcloud is replaced by ``FakeGcloud`` (just enough of its behaviour, with IAM policies per resource) and the
client libraries by ``FakeClients``; the emulator tier runs the real client-library half.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from dataclasses import replace

import pytest

from tests.unit.test_provision import CONFIG, EXTRACT, NON_DEFAULT, NUMBER, PLAN, PROJECT, TABLES_SQL, TRANSFORM
from tools import provisioning as pv
from tools.cloud_functions import FUNCTIONS
from tools.provisioning import cli as provision
from tools.provisioning import clients as clients_module
from tools.provisioning.apply import CLIENT_KINDS, has_binding
from tools.provisioning.config import flag
from tools.provisioning.gcloud import Gcloud, Result


# --- applying ---------------------------------------------------------------------------------------------


class FakeGcloud:
    """Just enough of gcloud's behaviour: describe answers from state, create/update change it, IAM policies
    are kept per resource and ``get-iam-policy`` returns them."""

    def __init__(self, components: tuple[str, ...] = ("beta", "core")) -> None:
        self.state: dict[str, dict] = {}
        self.enabled: set[str] = set()
        self.policies: dict[tuple[str, ...], dict] = {}
        self.components = components
        self.calls: list[list[str]] = []

    def __call__(self, args: list[str]) -> Result:
        self.calls.append(args)
        words = [a for a in args if not a.startswith("--")]
        flags = dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)
        if words[:1] == ["version"]:
            return Result(0, json.dumps({"Google Cloud SDK": "528.0.0", **dict.fromkeys(self.components, "1")}))
        for verb in ("get-iam-policy", "add-iam-policy-binding"):
            if verb in words:
                at = words.index(verb)
                key = (*words[:at], words[at + 1])
                policy = self.policies.setdefault(key, {"bindings": [], "etag": "x"})
                if verb == "get-iam-policy":
                    return Result(0, json.dumps(policy))
                condition = flags.get("condition", "None")
                entry = {"role": flags["role"], "members": [flags["member"]]}
                if condition != "None":
                    parts = dict(p.split("=", 1) for p in condition.split(","))
                    entry["condition"] = {"expression": parts["expression"], "title": parts["title"]}
                policy["bindings"].append(entry)
                return Result(0)
        if words[:3] == ["projects", "describe", PROJECT]:
            return Result(0, NUMBER + "\n")
        if words[:2] == ["functions", "describe"]:
            return Result(0, f"projects/{PROJECT}/locations/europe-west1/triggers/{words[2]}-1\n")
        if words[:3] == ["eventarc", "triggers", "describe"]:
            return Result(0, f"projects/{PROJECT}/subscriptions/eventarc-{words[3].rsplit('/', 1)[1]}\n")
        if words[:2] == ["services", "list"]:
            return Result(0, "\n".join(sorted(self.enabled)))
        if words[:2] == ["services", "enable"]:
            self.enabled |= set(words[2:])
            return Result(0)
        if words[:2] in (["storage", "service-agent"], ["beta", "services"]):
            return Result(0)
        verb_at = next((i for i, w in enumerate(words) if w in ("describe", "create", "update", "undelete")), None)
        if verb_at is None:
            return Result(2, "", f"fake gcloud does not know {args}")
        kind, verb, rest = " ".join(words[:verb_at]), words[verb_at], words[verb_at + 1:]
        name = rest[1] if rest[:1] == ["pubsub"] else rest[0]
        if kind == "iam service-accounts" and verb == "create":
            name = f"{name}@{PROJECT}.iam.gserviceaccount.com"
        store = self.state.setdefault(kind, {})
        if verb == "describe":
            found = name in store
            return Result(0, json.dumps(store[name])) if found else Result(1, "", "NOT_FOUND")
        if verb == "create" and name in store:
            return Result(1, "", "ALREADY_EXISTS")
        if verb != "undelete":
            store[name] = self._resource(kind, flags)
        return Result(0)

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
                    "location": flags["location"],
                    "pubsubTarget": {"topicName": flags["topic"],
                                     "data": base64.b64encode(flags["message-body"].encode()).decode()}}
        return dict(flags)

    def grants(self) -> list[list[str]]:
        return [c for c in self.calls if "add-iam-policy-binding" in c]

    def mutations(self) -> list[list[str]]:
        """Calls that change something; `services identity create` only returns the existing agent."""
        return [c for c in self.calls
                if {"create", "update", "enable", "undelete", "add-iam-policy-binding"} & set(c) and "identity" not in c]


class FakeClients:
    """The client-library half, keyed by what exists; the emulator test runs the real one."""

    def __init__(self) -> None:
        self.existing: set[tuple[str, str]] = set()
        self.created: list[tuple[str, str]] = []
        self.specs: list[object] = []

    def _ensure(self, kind: str, spec: object, name: str) -> str:
        self.specs.append(spec)
        if (kind, name) in self.existing:
            return "unchanged"
        self.existing.add((kind, name))
        self.created.append((kind, name))
        return "created"

    def bucket(self, spec):
        return self._ensure("bucket", spec, spec.name)

    def topic(self, spec):
        return self._ensure("topic", spec, spec.name)

    def subscription(self, spec):
        return self._ensure("subscription", spec, spec.name)

    def dataset(self, spec):
        return self._ensure("dataset", spec, spec.name)

    def table(self, spec):
        return self._ensure("table", spec, spec.name)

    def grant_dataset(self, binding):
        return "unchanged" if self._ensure("grant", binding, f"{binding.member} {binding.role}") == "unchanged" \
            else "granted"


def _apply(gcloud: FakeGcloud, clients: FakeClients, *phase: str) -> int:
    return provision.main(["--project", PROJECT, "--phase", *(phase or ["all"])], runner=gcloud, clients=clients)


def test_applying_twice_changes_nothing_the_second_time_and_says_so(capsys):
    gcloud, clients = FakeGcloud(), FakeClients()
    assert _apply(gcloud, clients) == 0
    first = capsys.readouterr().out.splitlines()
    first_mutations, first_created = len(gcloud.mutations()), len(clients.created)
    client_resources = [r for r in PLAN.resources if r.kind in CLIENT_KINDS]
    assert first_mutations and len([c for c in clients.created if c[0] != "grant"]) == len(client_resources)
    assert [line.split()[0] for line in first if line.split()[1:2] == ["binding"]] == ["granted"] * len(PLAN.bindings)
    assert _apply(gcloud, clients) == 0
    second = capsys.readouterr().out.splitlines()
    assert len(gcloud.mutations()) == first_mutations, gcloud.mutations()[first_mutations:]
    assert len(clients.created) == first_created
    assert not [line for line in second if line.split()[0] in {"created", "updated", "enabled", "granted"}]
    assert [line.split()[0] for line in second if line.split()[1:2] == ["binding"]] == \
        ["unchanged"] * len(PLAN.bindings)


def test_a_grant_the_policy_already_holds_says_unchanged_and_is_not_added_again(capsys):
    gcloud = FakeGcloud()
    gcloud.policies[("projects", PROJECT)] = {"bindings": [
        {"role": "roles/run.invoker", "members": ["user:someone@example.com", EXTRACT]},
        {"role": "roles/bigquery.jobUser", "members": [TRANSFORM],
         "condition": {"expression": "request.time < timestamp('2030-01-01T00:00:00Z')", "title": "expiry"}}]}
    assert _apply(gcloud, FakeClients(), "pre-deploy") == 0
    lines = capsys.readouterr().out.splitlines()
    (invoker,) = [ln for ln in lines if f"roles/run.invoker on project {PROJECT} to {EXTRACT}" in ln]
    (job_user,) = [ln for ln in lines if f"roles/bigquery.jobUser on project {PROJECT} to {TRANSFORM}" in ln]
    assert invoker.split()[0] == "unchanged"
    assert job_user.split()[0] == "granted", "a conditional grant is not the unconditional one the plan needs"
    added = [c for c in gcloud.grants() if f"--member={EXTRACT}" in c and "--role=roles/run.invoker" in c]
    assert added == []


def test_the_policy_check_compares_role_member_and_condition():
    (grant,) = [b for b in PLAN.bindings if b.role == "roles/secretmanager.secretAccessor" and b.member == EXTRACT]
    unconditional = {"bindings": [{"role": grant.role, "members": [grant.member]}]}
    conditional = {"bindings": [{"role": grant.role, "members": [grant.member], "condition": {
        "expression": grant.condition.expression, "title": grant.condition.title}}]}
    assert not has_binding(unconditional, grant) and has_binding(conditional, grant)
    assert not has_binding(conditional, dataclasses.replace(grant, member=EXTRACT.replace("extract", "other")))


def test_every_binding_of_the_plan_is_granted_once_on_its_target(capsys):
    gcloud, clients = FakeGcloud(), FakeClients()
    assert _apply(gcloud, clients) == 0
    granted = {(f["member"], f["role"]) for f in (dict(a[2:].split("=", 1) for a in c if a.startswith("--member")
                                                       or a.startswith("--role")) for c in gcloud.grants())}
    granted |= {(b.member, b.role) for b in clients.specs if isinstance(b, pv.Binding)}
    assert {(b.member, b.role) for b in PLAN.bindings} == granted
    assert len(gcloud.grants()) + len([b for b in PLAN.bindings if b.target.kind == "dataset"]) == len(PLAN.bindings)


def test_project_grants_always_say_which_condition_because_non_interactive_gcloud_requires_it(capsys):
    gcloud = FakeGcloud()
    assert _apply(gcloud, FakeClients(), "pre-deploy") == 0
    project_grants = [c for c in gcloud.grants() if c[:2] == ["projects", "add-iam-policy-binding"]]
    assert project_grants and all(any(a.startswith("--condition=") for a in c) for c in project_grants)
    conditions = {a for c in project_grants for a in c if a.startswith("--condition=") and a != "--condition=None"}
    assert len(conditions) == 2  # extract's secrets, notify's secrets
    for conditional in conditions:
        assert conditional.startswith("--condition=expression=resource.name") and f"projects/{NUMBER}/" \
            in conditional


def test_the_service_agents_are_requested_before_anything_is_granted_to_them(capsys):
    gcloud = FakeGcloud()
    assert _apply(gcloud, FakeClients(), "pre-deploy") == 0
    first_grant = next(i for i, c in enumerate(gcloud.calls) if "add-iam-policy-binding" in c)
    identities = [i for i, c in enumerate(gcloud.calls) if c[:3] == ["beta", "services", "identity"]]
    requested = {a for c in gcloud.calls if c[:3] == ["beta", "services", "identity"] for a in c}
    assert {"--service=pubsub.googleapis.com", "--service=eventarc.googleapis.com"} <= requested
    assert identities and max(identities) < first_grant
    assert any(c[:2] == ["storage", "service-agent"] for c in gcloud.calls[:first_grant])
    assert "ensured" in capsys.readouterr().out


def test_a_missing_beta_component_stops_provisioning_before_any_change_and_says_how_to_install_it(capsys):
    gcloud = FakeGcloud(components=("core",))
    assert _apply(gcloud, FakeClients(), "pre-deploy") == 1
    assert "gcloud components install beta" in capsys.readouterr().err
    assert gcloud.mutations() == []


def test_post_deploy_sets_the_dead_letter_policy_on_the_subscription_eventarc_created(capsys):
    gcloud = FakeGcloud()
    assert _apply(gcloud, FakeClients(), "post-deploy") == 0
    updated = [c for c in gcloud.calls if c[:3] == ["pubsub", "subscriptions", "update"]]
    assert [c[3] for c in updated] == [f"projects/{PROJECT}/subscriptions/eventarc-{f.deployed_name}-1"
                                       for f in FUNCTIONS if f.event_driven]
    assert f"--dead-letter-topic=projects/{PROJECT}/topics/fitbit-units-dead-letter" in updated[0]
    assert gcloud.mutations() == updated, "post-deploy changes the delivery policies and nothing else"


def test_post_deploy_before_the_functions_exist_says_to_deploy_first(capsys):
    gcloud = FakeGcloud()

    def undeployed(args: list[str]) -> Result:
        return Result(0, "\n") if args[:2] == ["functions", "describe"] else gcloud(args)

    assert provision.main(["--project", PROJECT, "--phase", "post-deploy"], runner=undeployed,
                          clients=FakeClients()) == 1
    assert "deploy it first" in capsys.readouterr().err


def test_a_grant_to_a_just_created_service_account_is_retried_until_iam_sees_it():
    answers = [Result(1, "", "Service account x does not exist."), Result(0)]
    slept: list[float] = []
    gcloud = Gcloud(PROJECT, lambda args: answers.pop(0), sleep=slept.append)
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


# --- flags ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(NON_DEFAULT))
def test_a_flag_given_to_provisioning_reaches_its_resource_in_the_phase_that_creates_it(name, capsys):
    value = NON_DEFAULT[name]
    gcloud, clients = FakeGcloud(), FakeClients()
    assert provision.main(["--project", PROJECT, "--phase", "all", flag(name), str(value)],
                          runner=gcloud, clients=clients) == 0
    applied = json.dumps(gcloud.state, default=str) + repr(clients.specs) + repr(gcloud.calls)
    plan = pv.build_plan(replace(CONFIG, project_number=None, **{name: value}), TABLES_SQL)
    assert plan.uses(name)
    for _phase, resource in plan.uses(name):
        assert (name, value) in resource.flags
    expected = {"region": "--location=europe-west4", "raw_bucket": "'study-raw'", "build_bucket": "'study-build'",
                "units_topic": "topics/study-units", "dataset": "'study'", "time_zone": "Europe/London",
                "daily_hour": "0 5 * * *", "flush_minute": "15 * * * *", "refetch_days": '"days":4',
                "raw_nearline_after_days": "LifecycleRule(age_days=45, storage_class='NEARLINE')",
                "raw_delete_after_days": "LifecycleRule(age_days=500, storage_class=None)",
                "staging_delete_after_days": "LifecycleRule(age_days=9, storage_class=None)",
                "max_delivery_attempts": "--max-delivery-attempts=12", "min_retry_delay_s": "--min-retry-delay=7s",
                "max_retry_delay_s": "--max-retry-delay=300s"}[name]
    assert expected in applied


def test_a_flag_given_to_a_phase_that_does_not_use_it_is_named_and_carried_to_the_build_command(capsys):
    gcloud = FakeGcloud()
    assert provision.main(["--project", PROJECT, "--max-delivery-attempts", "12"], runner=gcloud,
                          clients=FakeClients()) == 0
    out, err = capsys.readouterr()
    assert "--max-delivery-attempts configures the post-deploy phase" in err
    (command,) = [line for line in out.splitlines() if line.startswith("gcloud builds submit")]
    assert "_MAX_DELIVERY_ATTEMPTS=12" in command and f"--gcs-source-staging-dir=gs://{PROJECT}-fitbit-build/" in command
    assert not [c for c in gcloud.calls if c[:3] == ["pubsub", "subscriptions", "update"]]
