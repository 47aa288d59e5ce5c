"""Adapters for the notify function: the keyset over HTTP, the endpoint secret and the participant index.

- the public keyset is fetched with ``requests`` (a timeout; any failure is ``KeysetUnavailable``, a
  transient error, so the notification is answered 503 and Google delivers it again);
- the endpoint secret lives in the secret store under ``webhook-authorization`` (Secret Manager in the
  cloud, the 0600 file locally): either the secret itself (``"Bearer …"``, verbatim as registered) or a
  JSON list of accepted secrets while one is being rotated (new first, old kept until Google has
  verified the new one); it is re-read at most once a minute;
- enrolled participants, their healthUserIds and time zones come from the **participant index**, the
  secret ``webhook-participants``: a JSON list holding no token, rewritten from the grants at each
  enrolment and withdrawal (``write_participant_index``). notify reads only the index, never a grant,
  so its identity needs no access to the refresh tokens (least privilege: a compromised public endpoint
  cannot reach them). A participant missing from the index is recorded as an unknown user; rebuild it
  with ``python scripts/webhooks.py index``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import requests

from fitbit.webhooks.participants import Enrolled
from fitbit.webhooks.signature import KeysetUnavailable
from helper.secrets import SecretStore, enrolled_participants, load_grant

WEBHOOK_SECRET = "webhook-authorization"
PARTICIPANT_INDEX = "webhook-participants"


def keyset_fetcher(url: str, session: requests.Session | None = None, timeout_s: float = 10.0) -> Callable[[], bytes]:
    http = session or requests.Session()

    def fetch() -> bytes:
        try:
            response = http.get(url, timeout=timeout_s)
        except requests.RequestException as exc:
            raise KeysetUnavailable(f"webhook keyset: {type(exc).__name__} fetching it") from None
        if response.status_code != 200:
            raise KeysetUnavailable(f"webhook keyset: HTTP {response.status_code} fetching it")
        return response.content

    return fetch


def parse_secrets(value: str | None) -> tuple[str, ...]:
    """The accepted endpoint secrets stored under ``webhook-authorization`` (none when unset)."""
    if not value:
        return ()
    if value.lstrip().startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            raise ValueError(f"secret {WEBHOOK_SECRET!r} looks like a JSON list but is not valid JSON") from None
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise ValueError(f"secret {WEBHOOK_SECRET!r} must be a JSON list of non-empty strings")
        return tuple(items)
    return (value,)


class CachedSecrets:
    """The accepted endpoint secrets, read from the store at most once per ``max_age_s``."""

    def __init__(self, store: SecretStore, *, max_age_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store, self._max_age_s, self._clock = store, max_age_s, clock
        self._value: tuple[str, ...] = ()
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def __call__(self) -> tuple[str, ...]:
        with self._lock:
            if self._clock() - self._read_at >= self._max_age_s:
                self._value = parse_secrets(self._store.get(WEBHOOK_SECRET))
                self._read_at = self._clock()
            return self._value


def enrolled_users(store: SecretStore) -> list[Enrolled]:
    """Every enrolled participant whose grant records a healthUserId (reads every grant: tooling only)."""
    users = []
    for participant in enrolled_participants(store):
        grant = load_grant(store, participant)
        if grant.health_user_id:
            users.append(Enrolled(participant, grant.health_user_id, grant.time_zone))
    return users


def write_participant_index(store: SecretStore, users: list[Enrolled] | None = None) -> int:
    """Rewrite the participant index from the grants (or ``users``); returns how many it lists.

    Rebuilt whole rather than patched, so a run after any enrolment or withdrawal repairs whatever an
    earlier failed one left behind.
    """
    entries = sorted(enrolled_users(store) if users is None else users, key=lambda e: e.participant)
    store.put(PARTICIPANT_INDEX, json.dumps(
        [{"participant": e.participant, "health_user_id": e.health_user_id, "time_zone": e.time_zone}
         for e in entries], separators=(",", ":")))
    return len(entries)


def indexed_users(store: SecretStore) -> list[Enrolled]:
    """The participants the index lists (none when it was never written).

    Raises:
        ValueError: the index is not the JSON ``write_participant_index`` writes (rebuild it).
    """
    text = store.get(PARTICIPANT_INDEX)
    if not text:
        return []
    try:
        items = json.loads(text)
        return [Enrolled(str(i["participant"]), str(i["health_user_id"]), i.get("time_zone") or None)
                for i in items]
    except (ValueError, TypeError, KeyError):
        raise ValueError(f"secret {PARTICIPANT_INDEX!r} is not a participant index: run "
                         "`python scripts/webhooks.py index` to rebuild it") from None
