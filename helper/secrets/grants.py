"""What a participant grant is, and the records kept in a ``SecretStore`` (one JSON document each).

- ``participant-<id>``: ``ParticipantGrant`` (refresh token, granted scopes, healthUserId, time zone,
  when it was granted and, for 7-day "Testing" grants, when it expires);
- ``oauth-client``: ``client_id, client_secret, auth_uri, token_uri, revoke_uri``.

The enrolled participants are exactly the stored grants. Nothing here knows which backend holds them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from fitbit.errors import ReconsentNeeded
from fitbit.ids import participant_id_problem
from fitbit.oauth import OAuthClientConfig
from helper.secrets.store import SecretStore

PARTICIPANT_PREFIX = "participant-"
OAUTH_CLIENT_SECRET = "oauth-client"


def check_participant_id(participant_id: str) -> str:
    """Return ``participant_id`` if it is usable in a secret name (``[A-Za-z0-9_-]``, 1-200 chars).

    Raises:
        ValueError: it is not.
    """
    problem = participant_id_problem(participant_id)
    if problem is not None:
        raise ValueError(f"participant id {participant_id!r}: {problem}")
    return participant_id


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value


@dataclass(frozen=True)
class ParticipantGrant:
    """One participant's consent as stored under ``participant-<id>``. The token is hidden from ``repr``."""

    participant_id: str
    refresh_token: str = field(repr=False)
    scopes: tuple[str, ...]
    health_user_id: str | None
    time_zone: str | None
    granted_at: datetime
    refresh_token_expires_at: datetime | None = None

    def __post_init__(self) -> None:
        check_participant_id(self.participant_id)
        if not isinstance(self.refresh_token, str) or not self.refresh_token:
            raise ValueError(f"participant {self.participant_id}: the grant has no refresh token")
        object.__setattr__(self, "scopes", tuple(self.scopes))
        _aware(self.granted_at, "granted_at")
        if self.refresh_token_expires_at is not None:
            _aware(self.refresh_token_expires_at, "refresh_token_expires_at")

    @property
    def secret_name(self) -> str:
        return PARTICIPANT_PREFIX + self.participant_id

    def to_json(self) -> str:
        expires = self.refresh_token_expires_at
        return json.dumps({
            "participant_id": self.participant_id,
            "refresh_token": self.refresh_token,
            "scopes": list(self.scopes),
            "health_user_id": self.health_user_id,
            "time_zone": self.time_zone,
            "granted_at": self.granted_at.isoformat(),
            "refresh_token_expires_at": expires.isoformat() if expires else None,
        }, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ParticipantGrant:
        """Parse a stored grant.

        Raises:
            ValueError: not JSON, a missing key or a wrongly typed value (the message names the key,
                never the token).
        """
        try:
            data = json.loads(text)
        except ValueError:
            raise ValueError("a stored participant grant is not valid JSON") from None
        if not isinstance(data, dict):
            raise ValueError("a stored participant grant must be a JSON object")
        required = ("participant_id", "refresh_token", "scopes", "granted_at")
        missing = [k for k in required if k not in data]
        if missing:
            raise ValueError(f"a stored participant grant lacks {missing}")
        scopes = data["scopes"]
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ValueError("a stored participant grant's 'scopes' must be a list of strings")
        for key in ("participant_id", "refresh_token", "granted_at"):
            if not isinstance(data[key], str):
                raise ValueError(f"a stored participant grant's {key!r} must be a string")
        for key in ("health_user_id", "time_zone", "refresh_token_expires_at"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise ValueError(f"a stored participant grant's {key!r} must be a string or null")
        expires = data.get("refresh_token_expires_at")
        try:
            granted_at = datetime.fromisoformat(data["granted_at"])
            expires_at = datetime.fromisoformat(expires) if expires else None
        except ValueError:
            raise ValueError("a stored participant grant has a malformed timestamp") from None
        return cls(data["participant_id"], data["refresh_token"], tuple(scopes), data.get("health_user_id"),
                   data.get("time_zone"), granted_at, expires_at)


def save_grant(store: SecretStore, grant: ParticipantGrant) -> None:
    """Store (or replace) one participant's grant; other participants are untouched."""
    store.put(grant.secret_name, grant.to_json())


def load_grant(store: SecretStore, participant_id: str) -> ParticipantGrant:
    """The stored grant of ``participant_id``.

    Raises:
        ReconsentNeeded: no grant is stored for that participant (the fix is to run the consent script).
        ValueError: the stored record is malformed.
    """
    text = store.get(PARTICIPANT_PREFIX + participant_id)
    if text is None:
        raise ReconsentNeeded(
            f"no grant is stored for participant {participant_id}",
            fix=f"run `python scripts/authorise.py --participant {participant_id}`",
        )
    grant = ParticipantGrant.from_json(text)
    if grant.participant_id != participant_id:
        raise ValueError(f"the grant stored for participant {participant_id} names another participant")
    return grant


def enrolled_participants(store: SecretStore) -> list[str]:
    """Ids of every participant with a stored grant, sorted."""
    return sorted(name[len(PARTICIPANT_PREFIX):] for name in store.names(PARTICIPANT_PREFIX))


def save_oauth_client(store: SecretStore, config: OAuthClientConfig) -> None:
    store.put(OAUTH_CLIENT_SECRET, json.dumps({
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "auth_uri": config.auth_uri,
        "token_uri": config.token_uri,
        "revoke_uri": config.revoke_uri,
    }, sort_keys=True))


def load_oauth_client(store: SecretStore) -> OAuthClientConfig | None:
    """The OAuth client stored under ``oauth-client``, or None when there is none.

    Raises:
        ValueError: the stored record is malformed.
    """
    text = store.get(OAUTH_CLIENT_SECRET)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        raise ValueError(f"secret {OAUTH_CLIENT_SECRET!r} is not valid JSON") from None
    keys = ("client_id", "client_secret", "auth_uri", "token_uri", "revoke_uri")
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in keys[:2]):
        raise ValueError(f"secret {OAUTH_CLIENT_SECRET!r} needs string client_id and client_secret")
    return OAuthClientConfig(**{k: data[k] for k in keys if isinstance(data.get(k), str)})
