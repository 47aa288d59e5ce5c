"""Raw store adapters: a local directory (embedded default) and Cloud Storage.

Both create objects only if absent (GCS ``if_generation_match=0``; locally an atomic ``os.link``),
so a replayed extract never overwrites an object with other content. The local store also plays the
part of GCS's object-finalized notification: it calls ``on_finalize`` for every object it creates.

Local layout: ``objects/<name>`` mirrors the name's folders (``exists`` and ``list_objects`` walk them);
metadata sits under ``metadata/<first two folders>/<rest of the name, one file name>.json`` (issue #14:
a mirrored tree cost a ``mkdir`` per level per page, ~0.12 ms each, for a file only ``read`` opens; the
participant's folder stays, so withdrawal's purge still removes ``metadata/raw/<participant>/``). Metadata
written by older versions at ``metadata/<name>.json`` is still read.

Crash windows of the local store (a run killed with SIGKILL): the metadata is written before the object
and both atomically, so an object never exists without its metadata; a temporary ``.tmp-*`` file a crash
leaves behind is invisible to ``exists`` and ``list_objects``. An object created but whose notification
was never enqueued (killed between the two) is found by the orphan sweep (``fitbit/jobs/sweep.py``) at
the start of the next run.
"""

from __future__ import annotations

import itertools
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from fitbit.messages import StoredObject
from fitbit.ports import Blob, ObjectInfo

FinalizeHook = Callable[[StoredObject, int, datetime], None]
TEMPORARY = ".tmp-"  # prefix of files being written (and of those a crash left behind)
_TEMPORARIES = itertools.count()  # with the pid, names temporary files (mkstemp's random names cost more)


class LocalRawStore:
    """Objects under ``root/objects/<name>``, custom metadata under ``root/metadata/`` (``metadata_path``)."""

    def __init__(self, root: Path, bucket: str, on_finalize: FinalizeHook | None = None) -> None:
        self.root = Path(root)
        self.bucket = bucket
        self.on_finalize = on_finalize
        self._generations = itertools.count(1)  # next() is atomic: creates may run on several threads
        self._folders = KnownFolders()

    def _object_path(self, name: str) -> Path:
        if name.startswith("/") or ".." in name.split("/"):
            raise ValueError(f"object name {name!r} escapes the store")
        return self.root / "objects" / name

    def _metadata_path(self, name: str) -> Path:
        return self.root / "metadata" / metadata_file(name)

    def create(self, name: str, body: bytes, metadata: Mapping[str, str], content_type: str) -> bool:
        target = self._object_path(name)
        if os.path.exists(target):
            return False
        meta_path = self._metadata_path(name)
        meta = json.dumps({"contentType": content_type, **metadata}).encode()
        os.replace(_temporary(meta_path.parent, meta, self._folders), meta_path)
        tmp = _temporary(target.parent, body, self._folders)
        try:
            os.link(tmp, target)  # atomic create-if-absent
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)
        sequence = next(self._generations)
        if self.on_finalize is not None:
            generation = f"{int(datetime.now(timezone.utc).timestamp() * 1e6)}{sequence:04d}"
            self.on_finalize(StoredObject(self.bucket, name, generation), len(body), datetime.now(timezone.utc))
        return True

    def read(self, name: str) -> Blob:
        body = self._object_path(name).read_bytes()
        try:
            text = self._metadata_path(name).read_bytes()
        except FileNotFoundError:  # written before the flat layout
            text = (self.root / "metadata" / (name + ".json")).read_bytes()
        meta = json.loads(text)
        meta.pop("contentType", None)
        return Blob(name, body, meta)

    def exists(self, prefix: str) -> bool:
        directory, _, stem = prefix.rpartition("/")
        base = self._object_path(directory) if directory else self.root / "objects"
        if not base.is_dir():
            return False
        return any(p.name.startswith(stem) and not p.name.startswith(TEMPORARY) for p in base.iterdir())

    def list_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        objects = self.root / "objects"
        directory = prefix.rpartition("/")[0]
        base = self._object_path(directory) if directory else objects
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            name = path.relative_to(objects).as_posix()
            if path.is_file() and name.startswith(prefix) and not path.name.startswith(TEMPORARY):
                stat = path.stat()
                yield ObjectInfo(name, datetime.fromtimestamp(stat.st_mtime, timezone.utc), stat.st_size)


def metadata_file(name: str) -> str:
    """Where an object's metadata lives under ``metadata/``: the name's first two folders (area and
    participant), then the rest of the name as one file name (``%`` → ``%25``, ``/`` → ``%2F``: one-to-one).
    A rest too long for one file name keeps the mirrored layout."""
    parts = name.split("/")
    keep = 2 if len(parts) > 2 else len(parts) - 1
    flat = "/".join(parts[keep:]).replace("%", "%25").replace("/", "%2F")
    if len(flat) > 200:
        return name + ".json"
    return "/".join([*parts[:keep], flat]) + ".json"


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (its folder is created when missing)."""
    os.replace(_temporary(path.parent, data, None), path)


class KnownFolders:
    """Folders this process created or saw, so a write costs no ``mkdir`` attempt for them.

    Issue #14: each stored page lands in a new folder (``.../<window>/page-*``) in both trees; pathlib's
    ``mkdir(parents=True, exist_ok=True)`` tried every missing level from the leaf up (a failed call per
    level, then one per level down). Here the walk stops at the nearest folder already known and each
    missing level costs one ``mkdir``. Knowledge can go stale (a folder removed behind our back): the
    write that fails then creates the folder the slow way and retries.
    """

    def __init__(self) -> None:
        self._known: set[str] = set()

    def ensure(self, folder: str) -> None:
        if folder in self._known:
            return
        missing = []
        while folder not in self._known:
            parent = os.path.dirname(folder)
            missing.append(folder)
            if parent == folder:
                break
            folder = parent
        for path in reversed(missing):
            try:
                os.mkdir(path)
            except OSError:
                if not os.path.isdir(path):  # EEXIST for an existing folder; anything else is real
                    raise
            self._known.add(path)  # set.add is atomic: safe from several threads


def _temporary(folder: Path, data: bytes, folders: KnownFolders | None) -> str:
    """A new ``.tmp-*`` file (mode 0600) in ``folder`` holding ``data``."""
    if folders is not None:
        folders.ensure(str(folder))
    while True:
        tmp = os.path.join(folder, f"{TEMPORARY}{os.getpid()}-{next(_TEMPORARIES)}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            break
        except FileExistsError:  # left by a crashed process that had our pid: take the next number
            continue
        except FileNotFoundError:
            folder.mkdir(parents=True, exist_ok=True)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


class GcsRawStore:
    """Cloud Storage through google-cloud-storage; honours STORAGE_EMULATOR_HOST via the client."""

    def __init__(self, bucket: str, project: str | None = None, client: Any = None) -> None:
        self.bucket = bucket
        self._project = project
        self._client = client

    def _bucket(self) -> Any:
        if self._client is None:
            from google.cloud import storage

            self._client = _storage_client(storage, self._project)
        return self._client.bucket(self.bucket)

    def create(self, name: str, body: bytes, metadata: Mapping[str, str], content_type: str) -> bool:
        from google.api_core.exceptions import PreconditionFailed

        blob = self._bucket().blob(name)
        blob.metadata = dict(metadata)
        try:
            blob.upload_from_string(body, content_type=content_type, if_generation_match=0)
        except PreconditionFailed:
            return False
        return True

    def read(self, name: str) -> Blob:
        blob = self._bucket().get_blob(name)
        if blob is None:
            raise FileNotFoundError(f"gs://{self.bucket}/{name} does not exist")
        return Blob(name, blob.download_as_bytes(), dict(blob.metadata or {}))

    def exists(self, prefix: str) -> bool:
        return any(True for _ in self._bucket().list_blobs(prefix=prefix, max_results=1))

    def list_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        """One ``objects.list`` call per 1,000 objects; ``fields`` keeps each page to names and times."""
        for blob in self._bucket().list_blobs(prefix=prefix, fields="items(name,timeCreated,size),nextPageToken"):
            yield ObjectInfo(blob.name, blob.time_created, int(blob.size or 0))


def _storage_client(storage: Any, project: str | None) -> Any:
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(project=project or "local-project", credentials=AnonymousCredentials())
    return storage.Client(project=project)
