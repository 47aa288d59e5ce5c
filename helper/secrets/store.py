"""The ``SecretStore`` Protocol: the three operations the pipeline needs from a secret backend.

It lives in ``helper/``, not in ``fitbit/ports.py``: the domain never reads a secret. The composition
(``helper/compose.py``) reads the participant's grant and the OAuth client and hands the domain a ready
``HealthClient`` and the list of enrolled participants; only plumbing and tools (``tools/authorise.py``,
the demo) talk to a store. Declaring it in the domain would invite the domain to read secrets itself.

Implementations: ``helper/secrets/local_file.py`` (one 0600 JSON file) and
``helper/secrets/secret_manager.py`` (Google Secret Manager).
"""

from __future__ import annotations

from typing import Protocol


class SecretStore(Protocol):
    """String values by name; names are listed by prefix. ``get`` returns None for an unknown name."""

    def get(self, name: str) -> str | None: ...

    def put(self, name: str, value: str) -> None: ...

    def names(self, prefix: str = "") -> list[str]: ...


def check_secret(name: str, value: str) -> None:
    """Refuse an empty name or a value that is not a string (every backend stores text).

    Raises:
        ValueError: the name is empty.
        TypeError: the value is not a string.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("a secret needs a non-empty name")
    if not isinstance(value, str):
        raise TypeError(f"secret {name!r}: values are strings (serialise JSON first)")
