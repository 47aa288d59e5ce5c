"""Apply one phase of a plan: look first, then create, update or grant only what differs.

Every step prints ``<outcome> <kind> <what>``, and the outcome is what happened, checked against the
current state first: ``created``/``updated``/``enabled``/``granted`` when something changed, ``unchanged``
when it already matched (a grant is checked against the resource's IAM policy before it is added), and
``ensured`` for a service agent, which Google creates on request or returns as it is.

Buckets, topics, subscriptions, the dataset and tables go through the official client libraries
(``clients.CloudClients``); everything else through ``gcloud`` (``gcloud.Gcloud``).
"""

from __future__ import annotations

import base64
from typing import Any, Callable

from tools import provisioning as pv
from tools.provisioning.clients import CloudClients
from tools.provisioning.config import ProvisioningError
from tools.provisioning.gcloud import Gcloud

CLIENT_KINDS = frozenset({"bucket", "topic", "subscription", "dataset", "table"})
# Service agents created with `gcloud beta services identity create`; Cloud Storage's has a command of its own.
BETA_AGENTS = frozenset({"pubsub.googleapis.com", "eventarc.googleapis.com"})
# gcloud's command group and resource spelling for each kind of grant target (datasets go through the client).
_POLICY_COMMANDS = {"project": ("projects",), "bucket": ("storage", "buckets"), "topic": ("pubsub", "topics"),
                    "subscription": ("pubsub", "subscriptions"), "service-account": ("iam", "service-accounts")}


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
        self._policies: dict[tuple[str, str], dict[str, Any]] = {}

    def apply(self, phase: pv.Phase, *, kinds: frozenset[str] | None = None, bindings: bool = True) -> None:
        resources, grants = self.plan.phase(phase)
        if kinds is None and any(isinstance(r, pv.ServiceAgent) and r.service in BETA_AGENTS for r in resources):
            # Checked before any change: with --quiet, gcloud would try to install the component itself.
            self._need_gcloud().require_component("beta", "`gcloud beta services identity create` makes Google "
                                                          "create the Pub/Sub and Eventarc service agents")
        apis = [r.name for r in resources if isinstance(r, pv.Api)]
        if apis and (kinds is None or "api" in kinds):
            self._report(self._enable(apis), "api", f"{len(apis)} services")
        for resource in resources:
            if isinstance(resource, pv.Api) or (kinds is not None and resource.kind not in kinds):
                continue
            self._report(self._resource(resource), resource.kind, _ident(resource))
        if not bindings:
            return
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

    def _service_agent(self, agent: pv.ServiceAgent) -> str:
        """Ask Google for the agent (created if missing, returned if not), so the grants to it can succeed."""
        g = self._need_gcloud()
        if agent.service in BETA_AGENTS:
            g.run("beta", "services", "identity", "create", f"--service={agent.service}")
        else:
            g.run("storage", "service-agent")
        return "ensured"

    # --- grants ----------------------------------------------------------------------------------------

    def _grant(self, b: pv.Binding) -> str:
        """Grant ``b`` unless the target's IAM policy already holds it; ``granted`` or ``unchanged``."""
        if b.target.kind == "dataset":
            return self._need_clients().grant_dataset(b)
        g = self._need_gcloud()
        command = _POLICY_COMMANDS[b.target.kind]
        resource = f"gs://{b.target.name}" if b.target.kind == "bucket" else b.target.name
        key = (b.target.kind, resource)
        if key not in self._policies:
            self._policies[key] = g.json(*command, "get-iam-policy", resource, retry_missing=True)
        policy = self._policies[key]
        if has_binding(policy, b):
            return "unchanged"
        args = [*command, "add-iam-policy-binding", resource, f"--member={b.member}", f"--role={b.role}"]
        if b.target.kind == "project":  # non-interactive gcloud must be told which condition, even "none"
            args.append(f"--condition=expression={b.condition.expression},title={b.condition.title}"
                        if b.condition else "--condition=None")
        g.run(*args, "--format=none", retry_missing=True)
        entry: dict[str, Any] = {"role": b.role, "members": [b.member]}
        if b.condition:
            entry["condition"] = {"expression": b.condition.expression, "title": b.condition.title}
        policy.setdefault("bindings", []).append(entry)
        return "granted"


def has_binding(policy: dict[str, Any], b: pv.Binding) -> bool:
    """True when an IAM policy (gcloud's JSON) already grants ``b``: same role, member and condition."""
    want = (b.condition.expression, b.condition.title) if b.condition else None
    for entry in policy.get("bindings", []):
        condition = entry.get("condition")
        have = (condition.get("expression"), condition.get("title")) if condition else None
        if entry.get("role") == b.role and b.member in entry.get("members", []) and have == want:
            return True
    return False
