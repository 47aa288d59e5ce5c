"""The Google Cloud footprint of the pipeline as data: a pure plan of typed resources and IAM bindings.

``build_plan(config, tables_sql)`` returns every resource and every role grant the deployment needs, and
nothing is created here: ``scripts/provision.py`` applies a plan (or prints it with ``--dry-run``), and the
unit tests assert on it offline. Keeping the plan pure is what makes least privilege checkable: a test can
list each principal's roles without a project.

Two phases. ``pre-deploy`` (run once by a project owner): APIs, service accounts, buckets, topics, the
dead-letter hold subscription, the dataset and tables, the OAuth client secret, custom roles and every
binding on those. ``post-deploy`` (run by Cloud Build after each deploy, with the deployer's narrow
rights): the run.invoker grants on the functions' Cloud Run services, the dead-letter and retry policy
on the subscriptions Eventarc created for the two triggers, and the Cloud Scheduler jobs. These exist
only once the functions do, and Eventarc may recreate its subscriptions on a redeploy.

Platform facts behind the plan (Google Cloud docs, checked 2026-11-23):

- A gen2 function's trigger identity needs ``roles/run.invoker`` on the function's Cloud Run service;
  ``roles/eventarc.eventReceiver`` only for direct events other than Pub/Sub (our Cloud Storage trigger).
- Cloud Storage triggers need the Cloud Storage service agent to hold ``roles/pubsub.publisher``.
- Dead-lettering needs the Pub/Sub service agent to publish to the dead-letter topic and subscribe to
  the source subscription. Pub/Sub allows 5-100 delivery attempts and retry backoff up to 600 s.
- Secret Manager IAM conditions see ``projects/<number>/secrets/<id>[/versions/<v>]``; listing secrets is
  a project permission that no secret-level grant gives.
- Event-driven gen2 functions time out after at most 540 s.

Modules: ``config`` (the validated knobs), ``model`` (resource and binding types, ``Plan``), ``plan``
(``build_plan``) import only the standard library and ``fitbit.messages`` (with the catalogue it validates against), so the post-deploy step runs in the
Cloud SDK image with nothing installed; ``clients`` applies the emulator-supported resources through the
Google client libraries, imported lazily.
"""

from tools.provisioning.config import (
    APIS,
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
    Subscription,
    Table,
    Target,
    Topic,
    TriggerDelivery,
)
from tools.provisioning.plan import build_plan, scheduler_bodies, split_statements, tables_from_ddl

__all__ = [
    "APIS", "FUNCTION_NAMES", "OAUTH_CLIENT_SECRET", "PARTICIPANT_SECRET_PREFIX", "PHASES", "PRIMITIVE_ROLES",
    "PROJECT_NUMBER_PLACEHOLDER", "Api", "Binding", "Bucket", "Condition", "Config", "CustomRole", "Dataset",
    "DeliveryPolicy", "LifecycleRule", "Phase", "Plan", "Resource", "SchedulerJob", "Secret", "ServiceAccount",
    "Subscription", "Table", "Target", "Topic", "TriggerDelivery", "build_plan", "scheduler_bodies",
    "split_statements", "tables_from_ddl",
]
