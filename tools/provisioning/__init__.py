"""The Google Cloud footprint of the pipeline as data: a pure plan of typed resources and IAM bindings.

``build_plan(config, tables_sql)`` returns every resource and every role grant the deployment needs, and
nothing is created here: ``scripts/provision.py`` applies a plan (or prints it with ``--dry-run``), and the
unit tests assert on it offline. Keeping the plan pure is what makes least privilege checkable: a test can
list each principal's roles without a project.

Two phases. ``pre-deploy`` (run by a project owner, again after changing a flag): APIs, the service
agents the grants name, service accounts, custom roles, buckets, topics, the dead-letter hold
subscription, the dataset and tables, the OAuth client secret, the Cloud Scheduler jobs and every IAM
binding. ``post-deploy`` (run by Cloud Build after each deploy, with the deployer's narrow rights): the
dead-letter and retry policy on the subscriptions Eventarc created for the functions' triggers, which
exist only once the functions do (and Eventarc may recreate them on a redeploy). Nothing else waits
for a deploy, so the build changes no IAM policy and no schedule.

The functions themselves (their identities, grants and triggers) come from ``tools/cloud_functions.py``;
a function declared there gets its service account, its grants and its delivery policy here.

Platform facts behind the plan (Google Cloud docs, checked 2026-11-23):

- A gen2 function's trigger identity needs ``roles/run.invoker`` (granted on the project: Cloud Run IAM
  takes no resource-name condition, and the service exists only after the deploy);
  ``roles/eventarc.eventReceiver`` only for direct events other than Pub/Sub (our Cloud Storage trigger).
- IAM resource-name conditions are recognised by Secret Manager and Cloud Storage among the services
  used here, not by Cloud Run, Pub/Sub or Cloud Scheduler (IAM "resource attributes for conditions",
  checked 2026-11-30).
- The Eventarc service agent is created on first use; a fresh project's first storage trigger can fail
  with "Permission denied while using the Eventarc Service Agent" until its role propagates, so it is
  created (``gcloud beta services identity create``, the ``beta`` component) and granted ahead.
- A Pub/Sub service agent enabled on or before 8 April 2021 needs ``roles/iam.serviceAccountTokenCreator``
  to sign push tokens; it is granted on the trigger identities only.
- Cloud Storage triggers need the Cloud Storage service agent to hold ``roles/pubsub.publisher``.
- Dead-lettering needs the Pub/Sub service agent to publish to the dead-letter topic and subscribe to
  the source subscription. Pub/Sub allows 5-100 delivery attempts and retry backoff up to 600 s.
- Secret Manager IAM conditions see ``projects/<number>/secrets/<id>[/versions/<v>]``; listing secrets is
  a project permission that no secret-level grant gives.
- Event-driven gen2 functions time out after at most 540 s.

Modules: ``config`` (the validated knobs), ``model`` (resource and binding types, ``Plan``), ``plan``
(``build_plan``), ``gcloud``, ``apply`` (the ``Applier``) and ``cli`` import only the standard library,
``fitbit.messages`` (with the catalogue it validates against), ``helper.sql`` and ``tools.cloud_functions``,
so the post-deploy step runs in the Cloud SDK image on gcloud's own Python; ``clients`` applies the
emulator-supported resources through the Google client libraries, imported lazily.
"""

from tools.provisioning.config import (
    APIS,
    FIELDS,
    FUNCTION_NAMES,
    OAUTH_CLIENT_SECRET,
    PARTICIPANT_SECRET_PREFIX,
    PHASES,
    PRIMITIVE_ROLES,
    PROJECT_NUMBER_PLACEHOLDER,
    Config,
    Phase,
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
)
from tools.provisioning.plan import build_plan, scheduler_bodies, split_statements, tables_from_ddl

__all__ = [
    "APIS", "FIELDS", "FUNCTION_NAMES", "OAUTH_CLIENT_SECRET", "PARTICIPANT_SECRET_PREFIX", "PHASES", "PRIMITIVE_ROLES",
    "PROJECT_NUMBER_PLACEHOLDER", "Api", "Binding", "Bucket", "Condition", "Config", "CustomRole", "Dataset",
    "DeliveryPolicy", "LifecycleRule", "Phase", "Plan", "Resource", "SchedulerJob", "Secret", "ServiceAccount", "ServiceAgent",
    "Subscription", "Table", "Target", "Topic", "TriggerDelivery", "build_plan", "scheduler_bodies",
    "split_statements", "tables_from_ddl",
]
