"""The plan's vocabulary: typed resources, IAM bindings and the Plan that holds them.

Each resource says which phase creates it, and carries the flags that configure it (``flags``: the
Config fields and their values), so ``--dry-run`` shows every flag's value on the resource it sets, in
the phase that creates it. Every binding is made by the pre-deploy phase: none waits for a deploy.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import ClassVar, Literal, Union

from tools.provisioning.config import (
    DEPLOY_FIELDS,
    PHASES,
    PROJECT_NUMBER_PLACEHOLDER,
    SECRET_LABELS,
    Config,
    Phase,
    flag,
    substitution,
)

Flags = tuple[tuple[str, object], ...]  # (Config field, value) pairs


def flags_of(config: Config, *names: str) -> Flags:
    """The named Config fields with their values, for a resource's ``flags``."""
    return tuple((name, getattr(config, name)) for name in names)

# --- resources ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Api:
    name: str
    flags: Flags = ()
    kind: ClassVar[str] = "api"
    phase: ClassVar[Phase] = "pre-deploy"

    def describe(self) -> str:
        return self.name


@dataclass(frozen=True)
class ServiceAccount:
    account_id: str
    email: str
    purpose: str
    flags: Flags = ()
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
    flags: Flags = ()
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
    flags: Flags = ()
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
    flags: Flags = ()
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
    flags: Flags = ()
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
    flags: Flags = ()
    kind: ClassVar[str] = "trigger-subscription"
    phase: ClassVar[Phase] = "post-deploy"

    def describe(self) -> str:
        return f"the Eventarc subscription of {self.function}: {self.delivery.describe()}"


@dataclass(frozen=True)
class Dataset:
    name: str
    location: str
    description: str
    flags: Flags = ()
    kind: ClassVar[str] = "dataset"
    phase: ClassVar[Phase] = "pre-deploy"

    def describe(self) -> str:
        return f"{self.name} in {self.location}"


@dataclass(frozen=True)
class Table:
    dataset: str
    name: str
    ddl: str = field(repr=False)
    flags: Flags = ()
    kind: ClassVar[str] = "table"
    phase: ClassVar[Phase] = "pre-deploy"

    def describe(self) -> str:
        return f"{self.dataset}.{self.name} (generated DDL, CREATE TABLE IF NOT EXISTS)"


@dataclass(frozen=True)
class Secret:
    name: str
    purpose: str
    labels: tuple[tuple[str, str], ...] = SECRET_LABELS
    flags: Flags = ()
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
    flags: Flags = ()
    kind: ClassVar[str] = "scheduler-job"
    phase: ClassVar[Phase] = "pre-deploy"

    def describe(self) -> str:
        return f"{self.name} '{self.schedule}' {self.time_zone} → topic {self.topic}: {self.body}"


@dataclass(frozen=True)
class ServiceAgent:
    """A Google-managed service agent the bindings name; Google creates some only on first use, so
    provisioning asks for each one first (``gcloud beta services identity create`` or its own command)."""

    service: str
    email: str
    purpose: str
    flags: Flags = ()
    kind: ClassVar[str] = "service-agent"
    phase: ClassVar[Phase] = "pre-deploy"

    @property
    def member(self) -> str:
        return f"serviceAccount:{self.email}"

    def describe(self) -> str:
        return f"{self.email} ({self.service}): {self.purpose}"


Resource = Union[Api, ServiceAgent, ServiceAccount, CustomRole, Bucket, Topic, Subscription, TriggerDelivery,
                 Dataset, Table, Secret, SchedulerJob]

# --- bindings -----------------------------------------------------------------------------------------

TargetKind = Literal["project", "bucket", "topic", "subscription", "dataset", "service-account"]


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

    phase: ClassVar[Phase] = "pre-deploy"  # every grant is on something that exists before the deploy

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

    def uses(self, name: str) -> list[tuple[Phase, Resource]]:
        """Where Config field ``name`` lands: the resources it configures, with the phase creating each."""
        return [(r.phase, r) for r in self.resources if any(f == name for f, _ in r.flags)]

    def fields_of(self, phase: Phase) -> list[str]:
        """The Config fields that configure a resource of ``phase``, in declaration order."""
        used = {f for r in self.resources if r.phase == phase for f, _ in r.flags}
        return [f for f in _FIELD_ORDER if f in used]

    def lines(self, phases: tuple[Phase, ...] = PHASES) -> list[str]:
        """The human-readable plan ``--dry-run`` prints: every resource with the flags that configure it,
        and every binding with its role, per phase."""
        c = self.config
        out = [f"Plan for project {c.project} (number {c.number}), region {c.region}"]
        for phase in phases:
            resources, bindings = self.phase(phase)
            out.append(f"\n{phase}: {len(resources)} resources, {len(bindings)} bindings")
            for r in resources:
                shown = " ".join(f"{flag(name)}={value}" for name, value in r.flags)
                out.append(f"  {r.kind:<20} {r.describe()}" + (f"  [{shown}]" if shown else ""))
            out += [f"  {'binding':<20} {b.describe()}" for b in bindings]
        if self.needs_project_number:
            out.append(f"\n{PROJECT_NUMBER_PLACEHOLDER} is filled in from `gcloud projects describe` when applied.")
        return out

    def role_table(self) -> str:
        """Every grant as a Markdown table (principal, role, on what, why): docs/deploy.md embeds it."""
        rows = ["| Principal | Role | On | Why |", "|---|---|---|---|"]
        for b in self.bindings:
            on = "the project" if b.target.kind == "project" else b.target.describe()
            if b.condition:
                on += f" (condition `{b.condition.title}`)"
            rows.append(f"| {_principal(b.member)} | {_role(b.role)} | {on} | {b.reason} |")
        customs = [r for r in self.resources if isinstance(r, CustomRole)]
        notes = [f"- custom `{r.role_id}`: {', '.join(f'`{p}`' for p in r.permissions)}" for r in customs]
        return "\n".join(rows + ["", "Custom roles:", "", *notes]) + "\n"

    def build_fields(self) -> list[str]:
        """The Config fields the build needs (cloudbuild.yaml's substitutions): what its deploy steps read
        and what configures a post-deploy resource."""
        used = set(DEPLOY_FIELDS) | set(self.fields_of("post-deploy"))
        return [f for f in _FIELD_ORDER if f in used]

    def flags_table(self) -> str:
        """Every flag as a Markdown table (flag, default, meaning, what it configures in which phase, the
        Cloud Build substitution that carries it): docs/deploy.md embeds it; ``--help`` uses the same text."""
        rows = ["| Flag | Default | Meaning | Configures (phase) | In the build |", "|---|---|---|---|---|"]
        for f in fields(Config):
            where = dict.fromkeys(f"{_KIND_NAMES.get(r.kind, r.kind)} ({phase})" for phase, r in self.uses(f.name))
            configures = "; ".join(where) or "the names of every resource and grant"
            build = f"`{substitution(f.name)}`" if f.name in self.build_fields() else "—"
            default = f.metadata.get("shown", "(required)" if f.default is MISSING else f.default)
            default = "looked up" if default is None else f"`{default}`" if default != "(required)" else default
            rows.append(f"| `{flag(f.name)}` | {default} | {f.metadata['help']} | {configures} | {build} |")
        return "\n".join(rows) + "\n"


_FIELD_ORDER = tuple(f.name for f in fields(Config))
_KIND_NAMES = {"bucket": "buckets", "topic": "topics", "subscription": "the dead-letter hold subscription",
               "dataset": "the dataset", "table": "tables", "scheduler-job": "scheduler jobs",
               "trigger-subscription": "Eventarc's trigger subscriptions"}


def _principal(member: str) -> str:
    email = member.partition(":")[2]
    agents = {"@gs-project-accounts.iam.gserviceaccount.com": "Cloud Storage service agent",
              "@gcp-sa-pubsub.iam.gserviceaccount.com": "Pub/Sub service agent",
              "@gcp-sa-eventarc.iam.gserviceaccount.com": "Eventarc service agent"}
    for suffix, name in agents.items():
        if email.endswith(suffix):
            return name
    return f"`{email.split('@')[0]}`"


def _role(role: str) -> str:
    return f"custom `{role.rsplit('/', 1)[1]}`" if role.startswith("projects/") else f"`{role}`"
