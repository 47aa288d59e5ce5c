"""Where refresh tokens and the OAuth client live: a narrow ``SecretStore``, two backends, typed records.

- ``store.py``: the ``SecretStore`` Protocol (get / put / names) every backend keeps.
- ``local_file.py``: ``LocalSecretStore``, one 0600 JSON file for the local runtime.
- ``secret_manager.py``: ``SecretManagerStore``, Google Secret Manager (imports the Google client libraries).
- ``grants.py``: ``ParticipantGrant`` and the OAuth client record, their load / save, and the enrolled
  participants; independent of the backend.

Importers use this package's names; the modules above are its seams.
"""

from helper.secrets.grants import (
    OAUTH_CLIENT_SECRET,
    PARTICIPANT_PREFIX,
    ParticipantGrant,
    check_participant_id,
    enrolled_participants,
    load_grant,
    load_oauth_client,
    save_grant,
    save_oauth_client,
)
from helper.secrets.local_file import InsecureSecretFile, LocalSecretStore
from helper.secrets.secret_manager import APP_LABEL, SecretManagerStore, secret_id
from helper.secrets.store import SecretStore

__all__ = [
    "APP_LABEL",
    "OAUTH_CLIENT_SECRET",
    "PARTICIPANT_PREFIX",
    "InsecureSecretFile",
    "LocalSecretStore",
    "ParticipantGrant",
    "SecretManagerStore",
    "SecretStore",
    "check_participant_id",
    "enrolled_participants",
    "load_grant",
    "load_oauth_client",
    "save_grant",
    "save_oauth_client",
    "secret_id",
]
