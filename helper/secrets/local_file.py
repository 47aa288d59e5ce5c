"""The local runtime's secret store: every secret in one JSON object file (``.state/secrets.json``).

The file is created 0600 inside a 0700 folder, written atomically (temp file + ``os.replace``) under an
exclusive ``flock`` so concurrent writers never lose each other's names, and refused when group- or
world-accessible (it holds refresh tokens).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from helper.secrets.store import check_secret


class InsecureSecretFile(PermissionError):
    """The local secrets file can be read by other users."""


class LocalSecretStore:
    """All secrets in one 0600 JSON object file (``{name: value}``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def _read(self) -> dict[str, str]:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return {}
        with os.fdopen(fd, "r", encoding="utf-8") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise InsecureSecretFile(
                    f"{self.path} is accessible to other users (mode {stat.S_IMODE(mode):04o}); it holds refresh "
                    f"tokens: run `chmod 600 {self.path}` (and consider whether the tokens were exposed)"
                )
            try:
                data = json.load(handle)
            except ValueError:
                raise ValueError(f"{self.path} is not valid JSON; restore it or delete it and re-authorise") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ValueError(f"{self.path} must hold one JSON object of string values")
        return data

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = os.open(f"{self.path}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        finally:
            os.close(lock)

    def get(self, name: str) -> str | None:
        return self._read().get(name)

    def put(self, name: str, value: str) -> None:
        """Set ``name`` atomically; other names are left exactly as they were."""
        check_secret(name, value)
        with self._locked():
            data = self._read()
            data[name] = value
            self._write(data)

    def delete(self, name: str) -> bool:
        """Remove ``name`` (consent withdrawal); False when it was not there. Other names are left as they were."""
        with self._locked():
            data = self._read()
            if data.pop(name, None) is None:
                return False
            self._write(data)
            return True

    def _write(self, data: dict[str, str]) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)  # created 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def names(self, prefix: str = "") -> list[str]:
        return sorted(n for n in self._read() if n.startswith(prefix))
