"""The local runtime's secret store: every secret in one JSON object file (``.state/secrets.json``).

The file is created 0600 inside a 0700 folder, written atomically (temp file + ``os.replace``) under an
exclusive ``flock`` so concurrent writers never lose each other's names, and refused when group- or
world-accessible (it holds refresh tokens).

Cost at cohort size (measured 2026-11-30, 200 enrolments): enrolling reads every grant twice (the shared-
account check, the webhook participant index), and each read parsed the whole file again, so enrolment
grew with the cube of the cohort (200 participants: 40,000 parses, 27 of 56 s). The parsed file is now kept
until the file changes (a write replaces it: new inode), and writes format it with the C encoder.
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
        self._parsed: tuple[tuple[int, int, int], dict[str, str]] | None = None  # (file identity, content)

    def _read(self) -> dict[str, str]:
        """The file's content (callers must not change it); parsed again only when the file changed."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return {}
        with os.fdopen(fd, "r", encoding="utf-8") as handle:
            info = os.fstat(handle.fileno())
            mode = info.st_mode
            identity = (info.st_ino, info.st_mtime_ns, info.st_size)
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise InsecureSecretFile(
                    f"{self.path} is accessible to other users (mode {stat.S_IMODE(mode):04o}); it holds refresh "
                    f"tokens: run `chmod 600 {self.path}` (and consider whether the tokens were exposed)"
                )
            parsed = self._parsed
            if parsed is not None and parsed[0] == identity:
                return parsed[1]
            try:
                data = json.load(handle)
            except ValueError:
                raise ValueError(f"{self.path} is not valid JSON; restore it or delete it and re-authorise") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ValueError(f"{self.path} must hold one JSON object of string values")
        self._parsed = (identity, data)
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
        self.put_many({name: value})

    def put_many(self, secrets: dict[str, str]) -> None:
        """Set several names in one atomic write (enrolling a whole cohort at once); others are untouched."""
        for name, value in secrets.items():
            check_secret(name, value)
        with self._locked():
            self._write({**self._read(), **secrets})

    def delete(self, name: str) -> bool:
        """Remove ``name`` (consent withdrawal); False when it was not there. Other names are left as they were."""
        with self._locked():
            data = dict(self._read())  # a copy: the parsed file is shared until the file changes
            if data.pop(name, None) is None:
                return False
            self._write(data)
            return True

    def _write(self, data: dict[str, str]) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)  # created 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(_indented(data))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def names(self, prefix: str = "") -> list[str]:
        return sorted(n for n in self._read() if n.startswith(prefix))


def _indented(data: dict[str, str]) -> str:
    """``json.dumps(data, indent=2, sort_keys=True)`` for a flat object of strings, with the C encoder."""
    if not data:
        return "{}"
    lines = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(data.items()))
    return "{\n" + lines + "\n}"
