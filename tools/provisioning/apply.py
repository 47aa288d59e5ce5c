#!/usr/bin/env python3
"""Create (or print) the pipeline's Google Cloud resources and IAM bindings; safe to run any number of times.

The plan itself is ``tools.provisioning.build_plan``; this script applies it. Every step looks first and
creates or updates only what differs, so a second run reports ``unchanged`` (IAM grants are additive and
idempotent in IAM itself).

    python scripts/provision.py --project P --dry-run                # print the full plan, touch nothing
    python scripts/provision.py --project P                          # pre-deploy phase (a project owner, once)
    python scripts/provision.py --project P --phase post-deploy      # after deploying (cloudbuild.yaml does it)
    python scripts/provision.py --project demo-project --emulators   # buckets, topics, subscriptions, dataset
                                                                     # and tables on the local emulators

Buckets, topics, subscriptions, the dataset and tables go through the official client libraries (which
honour ``STORAGE_EMULATOR_HOST`` / ``PUBSUB_EMULATOR_HOST``; BigQuery takes ``--bigquery-endpoint`` or
``BIGQUERY_EMULATOR_HOST``), so the emulator tests run the code that provisions a real project. APIs,
service accounts, roles, secrets, IAM, the trigger subscriptions and the scheduler go through ``gcloud``.
The post-deploy phase uses ``gcloud`` only, so it runs in the Cloud SDK image with nothing installed.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

ROOT = Path(__file__).resolve().parents[2]

from tools import provisioning as pv  # noqa: E402
from tools.provisioning.clients import CloudClients  # noqa: E402
from tools.provisioning.config import ProvisioningError  # noqa: E402

TABLES_SQL = ROOT / "bigquery_sql" / "create_tables.sql"
CLIENT_KINDS = frozenset({"bucket", "topic", "subscription", "dataset", "table"})


@dataclasses.dataclass
class Result:
    returncode: int
    stdout: str = ""
    stderr: str = ""


Runner = Callable[[list[str]], Result]


def subprocess_runner(args: list[str]) -> Result:
    done = subprocess.run(["gcloud", *args], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return Result(done.returncode, done.stdout, done.stderr)


class Gcloud:
    """``gcloud`` bound to one project, non-interactive; ``runner`` is injectable for tests."""

    def __init__(self, project: str, runner: Runner = subprocess_runner,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.project, self.runner, self.sleep = project, runner, sleep

    def run(self, *args: str, check: bool = True, retry_missing: bool = False) -> Result:
        """Run one command. ``retry_missing`` retries while a just-created principal is not yet visible."""
        command = [*args, f"--project={self.project}", "--quiet"]
        for delay in (2, 4, 8, 16, 0):
            result = self.runner(command)
            if result.returncode == 0 or not (retry_missing and "does not exist" in result.stderr) or not delay:
                break
            self.sleep(delay)
        if check and result.returncode != 0:
            raise ProvisioningError(f"gcloud {' '.join(args[:3])} failed: {result.stderr.strip()[-600:]}")
        return result

    def describe(self, *args: str) -> dict[str, Any] | None:
        """The JSON of a ``describe`` command, or None when the resource does not exist."""
        result = self.run(*args, "--format=json", check=False)
        return json.loads(result.stdout or "{}") if result.returncode == 0 else None

    def value(self, *args: str, field: str) -> str:
        return self.run(*args, f"--format=value({field})").stdout.strip()


def _ident(r: pv.Resource) -> str:
    if isinstance(r, pv.Table):
        return f"{r.dataset}.{r.name}"
    for attribute in ("email", "name", "function"):
        if hasattr(r, attribute):
            return str(getattr(r, attribute))
    return r.describe()


class Applier:
    """Applies one phase of a plan, printing ``<outcome> <kind> <what>`` per step."""

    def __init__(self, plan: pv.Plan, gcloud: Gcloud | None, clients: CloudClients | None,
                 out: Callable[[str], None] = print) -> None:
        self.plan, self.gcloud, self.clients, self.out = plan, gcloud, clients, out
        self.config = plan.config
        self._trigger_subscriptions: dict[str, str] = {}

    def apply(self, phase: pv.Phase, *, kinds: frozenset[str] | None = None, bindings: bool = True) -> None:
        resources, grants = self.plan.phase(phase)
        apis = [r.name for r in resources if isinstance(r, pv.Api)]
        if apis and (kinds is None or "api" in kinds):
            self._report(self._enable(apis), "api", f"{len(apis)} services")
        for resource in resources:
            if isinstance(resource, pv.Api) or (kinds is not None and resource.kind not in kinds):
                continue
            self._report(self._resource(resource), resource.kind, _ident(resource))
        if not bindings:
            return
        if phase == "pre-deploy":
            self._service_agents()
        for binding in grants:
            self._report(self._grant(binding), "binding", f"{binding.role} on {binding.target.describe()} "
                                                          f"to {binding.member}")

    def _report(self, outcome: str, kind: str, what: str) -> None:
        self.out(f"{outcome:<10} {kind:<20} {what}")

    def _need_gcloud(self) -> Gcloud:
        if self.gcloud is None:
            raise ProvisioningError("this step needs gcloud, which the emulator mode does not use")
        return self.gcloud

    def _need_clients(self) -> CloudClients:
        if self.clients is None:
            raise ProvisioningError("this step needs the Google Cloud client libraries (pre-deploy phase)")
        return self.clients

    def _resource(self, r: pv.Resource) -> str:
        if r.kind in CLIENT_KINDS:
            return getattr(self._need_clients(), r.kind)(r)
        return getattr(self, "_" + r.kind.replace("-", "_"))(r)

    def _enable(self, apis: list[str]) -> str:
        g = self._need_gcloud()
        enabled = set(g.run("services", "list", "--enabled", "--format=value(config.name)").stdout.split())
        missing = [a for a in apis if a not in enabled]
        if not missing:
            return "unchanged"
        g.run("services", "enable", *missing)
        return "enabled"

    def _service_account(self, sa: pv.ServiceAccount) -> str:
        g = self._need_gcloud()
        if g.describe("iam", "service-accounts", "describe", sa.email) is not None:
            return "unchanged"
        g.run("iam", "service-accounts", "create", sa.account_id, f"--display-name={sa.account_id}",
              f"--description={sa.purpose[:256]}")
        return "created"

    def _custom_role(self, role: pv.CustomRole) -> str:
        g = self._need_gcloud()
        current = g.describe("iam", "roles", "describe", role.role_id)
        flags = [f"--title={role.title}", f"--permissions={','.join(role.permissions)}"]
        if current is None:
            g.run("iam", "roles", "create", role.role_id, *flags, "--stage=GA")
            return "created"
        if current.get("deleted"):
            g.run("iam", "roles", "undelete", role.role_id)
        if (sorted(current.get("includedPermissions", [])) == sorted(role.permissions)
                and current.get("title") == role.title and not current.get("deleted")):
            return "unchanged"
        g.run("iam", "roles", "update", role.role_id, *flags)
        return "updated"

    def _secret(self, secret: pv.Secret) -> str:
        g = self._need_gcloud()
        if g.describe("secrets", "describe", secret.name) is not None:
            return "unchanged"
        labels = ",".join(f"{k}={v}" for k, v in secret.labels)
        g.run("secrets", "create", secret.name, "--replication-policy=automatic", f"--labels={labels}")
        return "created"

    def trigger_subscription(self, function: str) -> str:
        """The full name of the Pub/Sub subscription Eventarc created for ``function``'s trigger."""
        if function not in self._trigger_subscriptions:
            g = self._need_gcloud()
            trigger = g.value("functions", "describe", function, f"--region={self.config.region}",
                              field="eventTrigger.trigger")
            if not trigger:
                raise ProvisioningError(f"{function} has no event trigger: deploy it first (cloudbuild.yaml)")
            subscription = g.value("eventarc", "triggers", "describe", trigger, field="transport.pubsub.subscription")
            if not subscription:
                raise ProvisioningError(f"the Eventarc trigger of {function} has no Pub/Sub subscription yet")
            self._trigger_subscriptions[function] = subscription
        return self._trigger_subscriptions[function]

    def _trigger_subscription(self, spec: pv.TriggerDelivery) -> str:
        g, d = self._need_gcloud(), spec.delivery
        name = self.trigger_subscription(spec.function)
        dead_letter = f"projects/{self.config.project}/topics/{d.dead_letter_topic}"
        current = g.describe("pubsub", "subscriptions", "describe", name) or {}
        policy, retry = current.get("deadLetterPolicy", {}), current.get("retryPolicy", {})
        if (policy.get("deadLetterTopic") == dead_letter
                and policy.get("maxDeliveryAttempts") == d.max_delivery_attempts
                and retry.get("minimumBackoff") == f"{d.min_retry_delay_s}s"
                and retry.get("maximumBackoff") == f"{d.max_retry_delay_s}s"):
            return "unchanged"
        g.run("pubsub", "subscriptions", "update", name, f"--dead-letter-topic={dead_letter}",
              f"--max-delivery-attempts={d.max_delivery_attempts}", f"--min-retry-delay={d.min_retry_delay_s}s",
              f"--max-retry-delay={d.max_retry_delay_s}s")
        return "updated"

    def _scheduler_job(self, job: pv.SchedulerJob) -> str:
        g = self._need_gcloud()
        location = f"--location={job.location}"
        current = g.describe("scheduler", "jobs", "describe", job.name, location)
        topic = f"projects/{self.config.project}/topics/{job.topic}"
        flags = [location, f"--schedule={job.schedule}", f"--time-zone={job.time_zone}", f"--topic={topic}",
                 f"--message-body={job.body}", f"--description={job.description}"]
        if current is None:
            g.run("scheduler", "jobs", "create", "pubsub", job.name, *flags)
            return "created"
        target = current.get("pubsubTarget", {})
        body = base64.b64decode(target.get("data", "")).decode() if target.get("data") else ""
        if (current.get("schedule"), current.get("timeZone"), target.get("topicName"), body,
                current.get("description")) == (job.schedule, job.time_zone, topic, job.body, job.description):
            return "unchanged"
        g.run("scheduler", "jobs", "update", "pubsub", job.name, *flags)
        return "updated"

    def _service_agents(self) -> None:
        """Make Google create the two service agents the bindings name (they appear lazily)."""
        g = self._need_gcloud()
        g.run("storage", "service-agent")
        g.run("beta", "services", "identity", "create", "--service=pubsub.googleapis.com")

    def _grant(self, b: pv.Binding) -> str:
        kind, name = b.target.kind, b.target.name
        if kind == "dataset":
            return self._need_clients().grant_dataset(b)
        g = self._need_gcloud()
        who = [f"--member={b.member}", f"--role={b.role}"]
        if kind == "project":
            condition = (f"--condition=expression={b.condition.expression},title={b.condition.title}"
                         if b.condition else "--condition=None")
            args = ["projects", "add-iam-policy-binding", name, *who, condition]
        elif kind == "run-service":
            if b.role != "roles/run.invoker":
                raise ProvisioningError(f"only roles/run.invoker is granted on a function's service, not {b.role}")
            args = ["functions", "add-invoker-policy-binding", name, f"--region={self.config.region}",
                    f"--member={b.member}"]
        else:
            command = {"bucket": ("storage", "buckets"), "topic": ("pubsub", "topics"),
                       "subscription": ("pubsub", "subscriptions"), "trigger-subscription": ("pubsub", "subscriptions"),
                       "service-account": ("iam", "service-accounts")}[kind]
            resource = {"bucket": f"gs://{name}", "trigger-subscription": None}.get(kind, name)
            resource = resource or self.trigger_subscription(name)
            args = [*command, "add-iam-policy-binding", resource, *who]
        g.run(*args, "--format=none", retry_missing=True)
        return "granted"


# --- command line ---------------------------------------------------------------------------------------------

_HELP = {
    "project": "Google Cloud project id", "region": "region of the functions, buckets, dataset and scheduler",
    "project_number": "the project's number (looked up with gcloud when omitted)",
    "raw_bucket": "raw bucket (default <project>-fitbit-raw); staging is <raw_bucket>-staging",
    "daily_hour": "hour of the daily run, in --time-zone", "flush_minute": "minute of each hourly flush",
    "refetch_days": "days each daily run re-reads (the sliding window)",
    "raw_delete_after_days": "delete raw objects after this many days (0 keeps them)",
    "max_delivery_attempts": "deliveries before a message is dead-lettered (5-100)",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in dataclasses.fields(pv.Config):
        kind = int if f.type in ("int", int) else str
        parser.add_argument("--" + f.name.replace("_", "-"), type=kind, default=None, required=f.name == "project",
                            help=_HELP.get(f.name, f"default: {f.default}"))
    parser.add_argument("--phase", choices=[*pv.PHASES, "all"], help="default: pre-deploy (dry run: all)")
    parser.add_argument("--dry-run", action="store_true", help="print every resource and binding; change nothing")
    parser.add_argument("--roles-table", action="store_true", help="print the Markdown role table of docs/deploy.md")
    parser.add_argument("--emulators", action="store_true",
                        help="only the emulator-supported resources, through the client libraries, no gcloud")
    parser.add_argument("--bigquery-endpoint", help="BigQuery API endpoint (default: $BIGQUERY_EMULATOR_HOST)")
    return parser


def config_from_args(args: argparse.Namespace) -> pv.Config:
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(pv.Config)}
    return pv.Config(**{k: v for k, v in values.items() if v is not None})


def main(argv: Sequence[str] | None = None, *, runner: Runner = subprocess_runner,
         clients: CloudClients | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"provision: {exc}", file=sys.stderr)
        return 2
    phases = pv.PHASES if args.phase == "all" or (args.dry_run and not args.phase) else (args.phase or "pre-deploy",)
    tables_sql = TABLES_SQL.read_text()
    if args.dry_run or args.roles_table:
        plan = pv.build_plan(config, tables_sql)
        print(plan.role_table() if args.roles_table else "\n".join(plan.lines(phases)))
        return 0
    try:
        if args.emulators:
            missing = [v for v in ("STORAGE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST") if not os.environ.get(v)]
            if missing or not (args.bigquery_endpoint or os.environ.get("BIGQUERY_EMULATOR_HOST")):
                raise ProvisioningError("--emulators needs STORAGE_EMULATOR_HOST, PUBSUB_EMULATOR_HOST and "
                                        "BIGQUERY_EMULATOR_HOST: run `python scripts/emulators.py up` first")
            plan = pv.build_plan(config, tables_sql)
            clients = clients or CloudClients.connect(config.project, args.bigquery_endpoint)
            Applier(plan, None, clients).apply("pre-deploy", kinds=CLIENT_KINDS, bindings=False)
            return 0
        gcloud = Gcloud(config.project, runner)
        if config.project_number is None:
            number = gcloud.value("projects", "describe", config.project, field="projectNumber")
            config = dataclasses.replace(config, project_number=number)
        plan = pv.build_plan(config, tables_sql)
        if "pre-deploy" in phases and clients is None:
            clients = CloudClients.connect(config.project, args.bigquery_endpoint)
        applier = Applier(plan, gcloud, clients)
        for phase in phases:
            print(f"# {phase}")
            applier.apply(phase)
    except ProvisioningError as exc:
        print(f"provision: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
