"""Subscribers and subscriptions as code: the project's webhook endpoint and each participant's subscription.

API facts (discovery 20261030 ``projects.subscribers`` and ``.subscriptions``; team spec §6.1-§6.2 and
§12, checked 2026-11-30):

- ``POST v4/projects/{projectNumber}/subscribers?subscriberId=`` with ``{endpointUri,
  subscriberConfigs: [{dataTypes, subscriptionCreatePolicy}], endpointAuthorization: {secret}}``;
  Google verifies the endpoint synchronously (see ``fitbit.jobs.notify``) and answers an ``Operation``
  (the guide shows a bare ``Subscriber``: both are read). Always the project **number**;
- ids are 4-36 characters of ``[a-z]([a-z0-9-]{2,34}[a-z0-9])``;
- ``DELETE …/subscribers/{id}?force=true`` also deletes the subscriptions;
- ``POST …/subscriptions?subscriptionId=`` with ``{"user": "users/{healthUserId}", "dataTypes": [...]}``
  (bare type ids: the ``users/{id}/dataTypes/{type}`` form of discovery was refused live, 3P);
  ``GET …/subscriptions?filter=user = "users/{id}"``; ``DELETE …/subscriptions/{id}``;
- ``patch`` on subscriptions (and on ``subscriberConfigs``) reportedly always answers 400: a change
  is a delete followed by a create. Authentication is a service account with ``cloud-platform``.

Tooling, not runtime: provisioning (the subscriber), enrolment and withdrawal (the subscriptions) call
it with a ``cloud-platform`` token; no function does, so it does not ship in the archives.

Policy here: the subscriber uses ``MANUAL`` creation, so enrolment subscribes a participant and
withdrawal unsubscribes them (``AUTOMATIC`` would notify for every consenting user and cannot be
withdrawn per participant). Subscription ids are derived from the participant id, so re-running
enrolment finds the existing subscription instead of creating a second one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from fitbit.catalogue import DATA_TYPES
from fitbit.calls import API_VERSION, ApiCall
from fitbit.client import HealthClient
from fitbit.errors import TerminalError, UnexpectedResponse

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
_ID = re.compile(r"^[a-z]([a-z0-9-]{2,34}[a-z0-9])$")
_PROJECT_NUMBER = re.compile(r"^[0-9]{1,20}$")
_DISC = "projects.subscribers."
Change = Literal["created", "unchanged", "recreated"]


class EndpointVerificationFailed(TerminalError):
    """Google's handshake with our endpoint failed, so the subscriber was not created (400 FAILED_PRECONDITION)."""

    fix = ("the notify function must answer 201 to {\"type\": \"verification\"} with the secret and 401 without "
           "it: check that the stored 'webhook-authorization' secret equals the one registered, and the URL")


def webhook_types() -> tuple[str, ...]:
    """The catalogue's webhook-enabled data types, sorted."""
    return tuple(sorted(dt.path_id for dt in DATA_TYPES if dt.webhook))


def _project(project_number: str) -> str:
    if not isinstance(project_number, str) or not _PROJECT_NUMBER.match(project_number):
        raise ValueError(f"{project_number!r} is not a project number: subscribers need the number, not the id")
    return f"{API_VERSION}/projects/{project_number}/subscribers"


def _id(value: str, what: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise ValueError(f"{what} {value!r} must be 4-36 characters of [a-z0-9-], starting with a letter")
    return value


def subscription_id_for(participant: str) -> str:
    """A stable, valid subscription id for a participant (their id may hold capitals or underscores)."""
    return "p-" + hashlib.sha256(participant.encode()).hexdigest()[:24]


def create_subscriber_call(project_number: str, subscriber_id: str, *, endpoint_uri: str, secret: str,
                           data_types: Sequence[str], policy: str = "MANUAL") -> ApiCall:
    if not endpoint_uri.startswith(("https://", "http://")):
        raise ValueError("endpoint_uri must be an http(s) URL (Google requires https)")
    body = {"endpointUri": endpoint_uri,
            "subscriberConfigs": [{"dataTypes": list(data_types), "subscriptionCreatePolicy": policy}],
            "endpointAuthorization": {"secret": secret}}
    return ApiCall("POST", _project(project_number), (("subscriberId", _id(subscriber_id, "subscriber id")),),
                   body, _DISC + "create")


def list_subscribers_call(project_number: str, page_token: str | None = None) -> ApiCall:
    query = (("pageSize", "1000"),) + ((("pageToken", page_token),) if page_token else ())
    return ApiCall("GET", _project(project_number), query, None, _DISC + "list")


def delete_subscriber_call(project_number: str, subscriber_id: str, *, force: bool = False) -> ApiCall:
    query = (("force", "true"),) if force else ()
    return ApiCall("DELETE", f"{_project(project_number)}/{_id(subscriber_id, 'subscriber id')}", query, None,
                   _DISC + "delete")


def _subscriptions(project_number: str, subscriber_id: str) -> str:
    return f"{_project(project_number)}/{_id(subscriber_id, 'subscriber id')}/subscriptions"


def create_subscription_call(project_number: str, subscriber_id: str, subscription_id: str, *,
                             health_user_id: str, data_types: Sequence[str]) -> ApiCall:
    body = {"user": f"users/{health_user_id}", "dataTypes": list(data_types)}
    return ApiCall("POST", _subscriptions(project_number, subscriber_id),
                   (("subscriptionId", _id(subscription_id, "subscription id")),), body,
                   _DISC + "subscriptions.create")


def list_subscriptions_call(project_number: str, subscriber_id: str, *, health_user_id: str | None = None,
                            page_token: str | None = None) -> ApiCall:
    query: list[tuple[str, str]] = [("pageSize", "1000")]
    if health_user_id:
        query.append(("filter", f'user = "users/{health_user_id}"'))
    if page_token:
        query.append(("pageToken", page_token))
    return ApiCall("GET", _subscriptions(project_number, subscriber_id), tuple(query), None,
                   _DISC + "subscriptions.list")


def delete_subscription_call(project_number: str, subscriber_id: str, subscription_id: str) -> ApiCall:
    return ApiCall("DELETE", f"{_subscriptions(project_number, subscriber_id)}/{_id(subscription_id, 'id')}",
                   (), None, _DISC + "subscriptions.delete")


def _bare(data_types: Any) -> tuple[str, ...]:
    """Type ids from either spelling (``steps`` or ``users/{id}/dataTypes/steps``), sorted."""
    if not isinstance(data_types, list):
        return ()
    return tuple(sorted(str(t).rsplit("/", 1)[-1] for t in data_types))


class Subscriptions:
    """Keeps one subscriber and the participants' subscriptions as declared (create, or delete + create).

    Args:
        client: a ``HealthClient`` whose token has the ``cloud-platform`` scope (a service account).
        project_number: the Cloud project **number**.
        subscriber_id: our subscriber's id (4-36 of ``[a-z0-9-]``).
    """

    def __init__(self, client: HealthClient, project_number: str, subscriber_id: str) -> None:
        _project(project_number)
        self.client = client
        self.project_number = project_number
        self.subscriber_id = _id(subscriber_id, "subscriber id")

    @property
    def subscriber_name(self) -> str:
        return f"projects/{self.project_number}/subscribers/{self.subscriber_id}"

    def _all(self, first: ApiCall, key: str) -> Iterator[dict[str, Any]]:
        for page in self.client.pages(first):
            items = page.data.get(key, [])
            if not isinstance(items, list):
                raise UnexpectedResponse(f"{first.discovery_method}: '{key}' is not a list")
            yield from (i for i in items if isinstance(i, dict))

    def subscriber(self) -> dict[str, Any] | None:
        """Our subscriber as the API describes it, or None."""
        found = self._all(list_subscribers_call(self.project_number), "subscribers")
        return next((s for s in found if str(s.get("name", "")).endswith(f"/subscribers/{self.subscriber_id}")),
                    None)

    def ensure_subscriber(self, endpoint_uri: str, secret: str, data_types: Sequence[str] | None = None) -> Change:
        """Make the subscriber exist with this endpoint and these types.

        A different endpoint or type set is changed by delete (``force``: its subscriptions go too) and
        create; the caller then subscribes the participants again. A rotated secret alone cannot be seen
        (the API only says ``secretSet``): pass a new endpoint or delete the subscriber to force it.
        """
        types = tuple(sorted(data_types or webhook_types()))
        current = self.subscriber()
        if current is not None:
            configs = current.get("subscriberConfigs") or [{}]
            same = (current.get("endpointUri") == endpoint_uri and len(configs) == 1
                    and _bare(configs[0].get("dataTypes")) == types
                    and configs[0].get("subscriptionCreatePolicy") == "MANUAL")
            if same:
                return "unchanged"
            self.client.execute(delete_subscriber_call(self.project_number, self.subscriber_id, force=True))
        try:
            self.client.execute(create_subscriber_call(self.project_number, self.subscriber_id,
                                                       endpoint_uri=endpoint_uri, secret=secret, data_types=types))
        except TerminalError as exc:
            if getattr(exc, "http_status", None) == 400 and "FAILED_PRECONDITION" in str(exc):
                raise EndpointVerificationFailed(f"subscriber {self.subscriber_name}: endpoint verification "
                                                 "failed") from None
            raise
        return "created" if current is None else "recreated"

    def delete_subscriber(self) -> bool:
        if self.subscriber() is None:
            return False
        self.client.execute(delete_subscriber_call(self.project_number, self.subscriber_id, force=True))
        return True

    def subscriptions_of(self, health_user_id: str) -> list[dict[str, Any]]:
        call = list_subscriptions_call(self.project_number, self.subscriber_id, health_user_id=health_user_id)
        return [s for s in self._all(call, "subscriptions") if s.get("user") == f"users/{health_user_id}"]

    def subscribe(self, participant: str, health_user_id: str, data_types: Sequence[str] | None = None) -> Change:
        """Enrolment: the participant's subscription for the webhook types (delete + create to change it)."""
        types = tuple(sorted(data_types or webhook_types()))
        wanted = subscription_id_for(participant)
        existing = self.subscriptions_of(health_user_id)
        if any(s.get("name", "").endswith("/" + wanted) and _bare(s.get("dataTypes")) == types for s in existing):
            return "unchanged"
        for sub in existing:
            self._delete(sub)
        self.client.execute(create_subscription_call(self.project_number, self.subscriber_id, wanted,
                                                     health_user_id=health_user_id, data_types=types))
        return "recreated" if existing else "created"

    def unsubscribe(self, health_user_id: str) -> int:
        """Withdrawal: delete every subscription of this user; returns how many were deleted."""
        existing = self.subscriptions_of(health_user_id)
        for sub in existing:
            self._delete(sub)
        return len(existing)

    def _delete(self, subscription: dict[str, Any]) -> None:
        sub_id = str(subscription.get("name", "")).rsplit("/", 1)[-1]
        self.client.execute(delete_subscription_call(self.project_number, self.subscriber_id, sub_id))


# --- enrolment, withdrawal and the command line ----------------------------------------------------------


def simulator_admin_client(api_base_url: str, user: str = "user1") -> HealthClient:
    """A client with a ``cloud-platform`` token minted by the simulator (what a service account would hold)."""
    import requests

    base = api_base_url.rstrip("/") + "/"
    token = requests.post(f"{base}_admin/tokens", json={"user": user, "scopes": [CLOUD_PLATFORM_SCOPE]},
                          timeout=30).json()["access_token"]
    return HealthClient(lambda: token, base_url=base)


def cloud_platform_client(api_base_url: str | None = None) -> HealthClient:
    """A client on Application Default Credentials with the ``cloud-platform`` scope (a service account
    holding a Google Health API role, or ``gcloud auth application-default login``); the simulator's
    admin token when ``api_base_url`` names a simulator."""
    if api_base_url:
        return simulator_admin_client(api_base_url)
    import google.auth
    from google.auth.transport.requests import Request

    credentials, _ = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])

    def token() -> str:
        if not credentials.valid:
            credentials.refresh(Request())
        return str(credentials.token)

    return HealthClient(token)


def enrol_webhooks(store: Any, subscriptions: Subscriptions | None, participant: str,
                   health_user_id: str | None) -> Change | None:
    """After a grant is stored: rewrite the participant index, then subscribe the participant (when the
    deployment has a subscriber). Returns what happened to the subscription, or None without one."""
    from helper.webhooks import write_participant_index

    write_participant_index(store)
    if subscriptions is None or not health_user_id:
        return None
    return subscriptions.subscribe(participant, health_user_id)


def withdraw_webhooks(store: Any, subscriptions: Subscriptions | None, participant: str) -> int:
    """Withdrawal's webhook half: delete the participant's subscriptions and drop them from the index.

    Returns:
        How many subscriptions were deleted (0 without a subscriber). The grant itself is left to the
        caller (the withdraw command deletes it).
    """
    from helper.secrets import load_grant
    from helper.webhooks import enrolled_users, write_participant_index

    grant = load_grant(store, participant)
    write_participant_index(store, [e for e in enrolled_users(store) if e.participant != participant])
    if subscriptions is None or not grant.health_user_id:
        return 0
    return subscriptions.unsubscribe(grant.health_user_id)


def endpoint_secret(store: Any) -> str:
    """The secret to register: the first accepted value of ``webhook-authorization`` (the newest one).

    Raises:
        ValueError: the secret is missing (docs/deploy.md says how to add it).
    """
    from helper.webhooks import WEBHOOK_SECRET, parse_secrets

    accepted = parse_secrets(store.get(WEBHOOK_SECRET))
    if not accepted:
        raise ValueError(f"no endpoint secret: add a version of the secret {WEBHOOK_SECRET!r} first "
                         "(docs/deploy.md, webhooks)")
    return accepted[0]


def subscribe_everyone(store: Any, subscriptions: Subscriptions) -> dict[str, Change]:
    """Subscribe every enrolled participant (after a subscriber was created or re-created)."""
    from helper.webhooks import enrolled_users

    return {e.participant: subscriptions.subscribe(e.participant, e.health_user_id) for e in enrolled_users(store)}


def main(argv: Sequence[str] | None = None) -> int:
    """``python scripts/webhooks.py {subscriber,subscribe-all,unsubscribe,index}``: the subscriber and the
    subscriptions as code, and the participant index notify reads."""
    import argparse
    import sys

    from helper.secrets import LocalSecretStore, SecretManagerStore
    from helper.webhooks import write_participant_index

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("command", choices=("subscriber", "subscribe-all", "unsubscribe", "index"))
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--gcp-project", help="secrets in Secret Manager of this project")
    where.add_argument("--secrets", default=".state/secrets.json", help="local secrets file (default %(default)s)")
    parser.add_argument("--project-number", help="the Cloud project NUMBER (subscribers are named by it)")
    parser.add_argument("--subscriber-id", default="fitbit-pipeline")
    parser.add_argument("--url", help="subscriber: the notify function's URL")
    parser.add_argument("--participant", help="unsubscribe: the participant withdrawing")
    parser.add_argument("--base-url", help="a simulator instead of the Google Health API")
    args = parser.parse_args(argv)
    store = SecretManagerStore(args.gcp_project) if args.gcp_project else LocalSecretStore(args.secrets)
    if args.command == "index":
        print(f"participant index: {write_participant_index(store)} participants")
        return 0
    if not args.project_number:
        parser.error(f"{args.command} needs --project-number")
    try:
        subs = Subscriptions(cloud_platform_client(args.base_url), args.project_number, args.subscriber_id)
        if args.command == "subscriber":
            if not args.url:
                parser.error("subscriber needs --url (gcloud functions describe fitbit-notify --format='value(url)')")
            change = subs.ensure_subscriber(args.url, endpoint_secret(store))
            print(f"subscriber {subs.subscriber_name}: {change}")
            if change != "unchanged":  # a re-created subscriber lost its subscriptions (force delete)
                args.command = "subscribe-all"
        if args.command == "subscribe-all":
            for participant, done in subscribe_everyone(store, subs).items():
                print(f"subscription of {participant}: {done}")
        elif args.command == "unsubscribe":
            if not args.participant:
                parser.error("unsubscribe needs --participant")
            print(f"deleted {withdraw_webhooks(store, subs, args.participant)} subscription(s) of {args.participant}")
    except (ValueError, TerminalError) as exc:
        fix = getattr(exc, "fix", "")
        print(f"webhooks {args.command} failed: {exc}" + (f"\n  fix: {fix}" if fix else ""), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
