"""The plan's vocabulary: typed resources, IAM bindings and the Plan that holds them.

Each resource says which phase creates it; a binding's phase follows from what it is granted on (a
function's Cloud Run service and Eventarc's subscriptions exist only after the deploy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal, Union

from tools.provisioning.config import PHASES, PROJECT_NUMBER_PLACEHOLDER, SECRET_LABELS, Config, Phase

# --- resources ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Api:
    name: str
    kind: ClassVar[str] = "api"
    phase: ClassVar[Phase] = "pre-deploy"

    def describe(self) -> str:
        return self.name


@dataclass(frozen=True)
class ServiceAccount:
    account_id: str
    email: str
    purpose: str
    kind: ClassVar[str] = "service-account"
    phase: ClassVar[Phase] = "pre-deploy"

    @property
    def member(self) -> str:
        return f"serviceAccount:{self.email}"

    def describe(self) -> str:
        return f"{self.email}: {self.purpose}"


@dataclass(frozen=True)
class CustomRole:
    role_id: str
    project: str
    title: str
    permissions: tuple[str, ...]
    kind: ClassVar[str] = "custom-role"
    phase: ClassVar[Phase] = "pre-deploy"

    @property
    def name(self) -> str:
        return f"projects/{self.project}/roles/{self.role_id}"

    def describe(self) -> str:
        return f"{self.name} ({self.title}): {', '.join(self.permissions)}"


@dataclass(frozen=True)
class LifecycleRule:
    """``age_days`` after creation: move to ``storage_class``, or delete when it is None."""

    age_days: int
    storage_class: str | None = None

    def describe(self) -> str:
        if self.storage_class:
            return f"{self.storage_class} after {self.age_days} d"
        return f"delete after {self.age_days} d"


@dataclass(frozen=True)
class Bucket:
    name: str
    location: str
    purpose: str
    lifecycle: tuple[LifecycleRule, ...] = ()
    uniform_access: bool = True
    public_access_prevention: str = "enforced"
    kind: ClassVar[str] = "bucket"
    phase: ClassVar[Phase] = "pre-deploy"

    def describe(self) -> str:
        rules = "; ".join(r.describe() for r in self.lifecycle) or "none"
        return (f"gs://{self.name} in {self.location}, uniform bucket-level access, public access prevention "
                f"{self.public_access_prevention}, lifecycle: {rules}: {self.purpose}")


@dataclass(frozen=True)
class Topic:
    name: str
    purpose: str
    kind: ClassVar[str] = "topic"
    phase: ClassVar[Phase] = "pre-deploy"

    def describe(self) -> str:
        return f"{self.name}: {self.purpose}"


@dataclass(frozen=True)
class DeliveryPolicy:
    """Dead-letter topic plus exponential retry backoff for a push subscription."""

    dead_letter_topic: str
    max_delivery_attempts: int
    min_retry_delay_s: int
    max_retry_delay_s: int

    def describe(self) -> str:
        return (f"dead-letter to {self.dead_letter_topic} after {self.max_delivery_attempts} attempts, "
                f"retry backoff {self.min_retry_delay_s}-{self.max_retry_delay_s} s")


@dataclass(frozen=True)
class Subscription:
    name: str
    topic: str
    purpose: str
    ack_deadline_s: int = 60
    retention_days: int = 7
    delivery: DeliveryPolicy | None = None
    kind: ClassVar[str] = "subscription"
    phase: ClassVar[Phase] = "pre-deploy"

    def describe(self) -> str:
        policy = f", {self.delivery.describe()}" if self.delivery else ""
        return (f"{self.name} on {self.topic} (pull, ack deadline {self.ack_deadline_s} s, keeps messages "
                f"{self.retention_days} d{policy}): {self.purpose}")


@dataclass(frozen=True)
class TriggerDelivery:
    """The delivery policy to set on the subscription Eventarc created for a function's trigger."""

    function: str
    region: str
    delivery: DeliveryPolicy
    kind: ClassVar[str] = "trigger-subscription"
    phase: ClassVar[Phase] = "post-deploy"

    def describe(self) -> str:
        return f"the Eventarc subscription of {self.function}: {self.delivery.describe()}"


@dataclass(frozen=True)
class Dataset:
    name: str
    location: str
    description: str
    kind: ClassVar[str] = "dataset"
    phase: ClassVar[Phase] = "pre-deploy"

    def describe(self) -> str:
        return f"{self.name} in {self.location}"


@dataclass(frozen=True)
class Table:
    dataset: str
    name: str
    ddl: str = field(repr=False)
    kind: ClassVar[str] = "table"
    phase: ClassVar[Phase] = "pre-deploy"

    def describe(self) -> str:
        return f"{self.dataset}.{self.name} (generated DDL, CREATE TABLE IF NOT EXISTS)"


@dataclass(frozen=True)
class Secret:
    name: str
    purpose: str
    labels: tuple[tuple[str, str], ...] = SECRET_LABELS
    kind: ClassVar[str] = "secret"
    phase: ClassVar[Phase] = "pre-deploy"

    def describe(self) -> str:
        return f"{self.name} (automatic replication, no version: {self.purpose})"


@dataclass(frozen=True)
class SchedulerJob:
    name: str
    location: str
    schedule: str
    time_zone: str
    topic: str
    body: str
    description: str
    kind: ClassVar[str] = "scheduler-job"
    phase: ClassVar[Phase] = "post-deploy"

    def describe(self) -> str:
        return f"{self.name} '{self.schedule}' {self.time_zone} → topic {self.topic}: {self.body}"


Resource = Union[Api, ServiceAccount, CustomRole, Bucket, Topic, Subscription, TriggerDelivery, Dataset, Table,
                 Secret, SchedulerJob]

# --- bindings -----------------------------------------------------------------------------------------

TargetKind = Literal["project", "bucket", "topic", "subscription", "trigger-subscription", "dataset",
                     "service-account", "run-service"]
_POST_DEPLOY_TARGETS = frozenset({"trigger-subscription", "run-service"})


@dataclass(frozen=True)
class Target:
    """What a role is granted on; ``name`` is the project id, a bucket, topic, dataset, email or function."""

    kind: TargetKind
    name: str

    def describe(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Condition:
    title: str
    expression: str

    def __post_init__(self) -> None:
        if "," in self.title + self.expression:
            raise ValueError("IAM condition title and expression must not contain commas (gcloud's --condition)")


@dataclass(frozen=True)
class Binding:
    member: str
    role: str
    target: Target
    reason: str
    condition: Condition | None = None

    @property
    def phase(self) -> Phase:
        return "post-deploy" if self.target.kind in _POST_DEPLOY_TARGETS else "pre-deploy"

    def describe(self) -> str:
        condition = f" if {self.condition.expression}" if self.condition else ""
        return f"{self.role} on {self.target.describe()} to {self.member}{condition}: {self.reason}"


@dataclass(frozen=True)
class Plan:
    config: Config
    resources: tuple[Resource, ...]
    bindings: tuple[Binding, ...]

    def phase(self, phase: Phase) -> tuple[tuple[Resource, ...], tuple[Binding, ...]]:
        return (tuple(r for r in self.resources if r.phase == phase),
                tuple(b for b in self.bindings if b.phase == phase))

    def roles_of(self, member: str) -> set[tuple[str, Target]]:
        return {(b.role, b.target) for b in self.bindings if b.member == member}

    @property
    def needs_project_number(self) -> bool:
        return self.config.project_number is None

    def lines(self, phases: tuple[Phase, ...] = PHASES) -> list[str]:
        """The human-readable plan ``--dry-run`` prints: every resource and every binding with its role."""
        c = self.config
        out = [f"Plan for project {c.project} (number {c.number}), region {c.region}"]
        for phase in phases:
            resources, bindings = self.phase(phase)
            out.append(f"\n{phase}: {len(resources)} resources, {len(bindings)} bindings")
            out += [f"  {r.kind:<20} {r.describe()}" for r in resources]
            out += [f"  {'binding':<20} {b.describe()}" for b in bindings]
        if self.needs_project_number:
            out.append(f"\n{PROJECT_NUMBER_PLACEHOLDER} is filled in from `gcloud projects describe` when applied.")
        return out

    def role_table(self) -> str:
        """Every grant as a Markdown table (principal, role, on what, phase, why): docs/deploy.md embeds it."""
        rows = ["| Principal | Role | On | Phase | Why |", "|---|---|---|---|---|"]
        for b in self.bindings:
            on = "the project" if b.target.kind == "project" else b.target.describe()
            if b.condition:
                on += f" (condition `{b.condition.title}`)"
            rows.append(f"| {_principal(b.member)} | {_role(b.role)} | {on} | {b.phase} | {b.reason} |")
        customs = [r for r in self.resources if isinstance(r, CustomRole)]
        notes = [f"- custom `{r.role_id}`: {', '.join(f'`{p}`' for p in r.permissions)}" for r in customs]
        return "\n".join(rows + ["", "Custom roles:", "", *notes]) + "\n"


def _principal(member: str) -> str:
    email = member.partition(":")[2]
    if email.endswith("@gs-project-accounts.iam.gserviceaccount.com"):
        return "Cloud Storage service agent"
    if email.endswith("@gcp-sa-pubsub.iam.gserviceaccount.com"):
        return "Pub/Sub service agent"
    return f"`{email.split('@')[0]}`"


def _role(role: str) -> str:
    return f"custom `{role.rsplit('/', 1)[1]}`" if role.startswith("projects/") else f"`{role}`"
