"""Start and stop the emulator processes: each in its own session, stopped by process group.

Why process groups: a failing test, a Ctrl-C or a dying parent must never leave an emulator (or a JVM
child, or a gunicorn worker) running on a 2-core machine shared by every later run. ``Stack`` starts
every process with ``setsid`` (its pid is its group id) and ``close()`` signals whole groups; ``down``
does the same from the pid file that ``up`` leaves behind.

Readiness, measured 2026-11-23 (shared/docs/emulators.md): Pub/Sub 0.6-0.8 s, fake-gcs-server 0.06 s,
local-bigquery about 1 s. fake-gcs-server publishes object notifications to a topic that must exist first.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from tools.emulators.install import BQ_VENV, BQEMU_VENV, DUCKDB, ROOT, bigquery_flavour, install

PROJECT = "demo-project"
JAVA_OPTS = "-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"


class EmulatorFailed(RuntimeError):
    """An emulator process died or did not become ready; the message carries the end of its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_ready(url: str) -> bool:
    """True once anything answers HTTP at ``url`` (any status: the server is listening)."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


@dataclass
class Service:
    name: str
    process: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Stack:
    """Processes started in their own sessions under ``state``; ``close()`` stops every one of them.

    Use as a context manager. ``env`` holds the client variables (``PUBSUB_EMULATOR_HOST``,
    ``STORAGE_EMULATOR_HOST``, ``BIGQUERY_EMULATOR_HOST``) once ``start_emulators`` has run.
    """

    state: Path
    project: str = PROJECT
    services: dict[str, Service] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.state = Path(self.state).resolve()
        (self.state / "logs").mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def gcs_root(self) -> Path:
        return self.state / "gcs"

    def spawn(self, name: str, cmd: Sequence[str], env: Mapping[str, str] | None = None, *,
              cwd: Path = ROOT, base_env: Mapping[str, str] | None = None) -> Service:
        """Start ``cmd`` as a session leader (its pid is its process-group id), logging to logs/<name>.log.

        ``env`` is added to ``base_env`` (the caller's environment by default); ``cwd`` is the repository
        unless a process must not see it (a served archive runs in its unzipped folder)."""
        if name in self.services and self.services[name].alive():
            raise RuntimeError(f"{name} is already running")
        log = self.state / "logs" / f"{name}.log"
        with open(log, "ab") as out:
            proc = subprocess.Popen(list(cmd), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=cwd, env={**(os.environ if base_env is None else base_env), **(env or {})},
                                    start_new_session=True)
        self.services[name] = Service(name, proc, log)
        with open(self.state / "pids", "a") as pids:
            pids.write(f"{proc.pid} {name}\n")
        return self.services[name]

    def wait_ready(self, name: str, url: str, timeout_s: float = 60.0) -> float:
        """Wait until ``url`` answers; returns the seconds waited. Raises EmulatorFailed with the log tail."""
        service, started = self.services[name], time.monotonic()
        while not http_ready(url):
            if not service.alive():
                raise EmulatorFailed(f"{name} exited with {service.process.returncode}:\n{service.log_tail()}")
            if time.monotonic() - started > timeout_s:
                raise EmulatorFailed(f"{name} did not answer {url} within {timeout_s:.0f} s:\n{service.log_tail()}")
            time.sleep(0.05)
        return time.monotonic() - started

    def stop(self, name: str, sig: int = signal.SIGTERM, grace_s: float = 10.0) -> None:
        """Signal the service's whole process group; SIGKILL it if it is still there after ``grace_s``."""
        service = self.services.pop(name, None)
        if service is None:
            return
        _kill_group(service.process.pid, sig)
        try:
            service.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            _kill_group(service.process.pid, signal.SIGKILL)
            service.process.wait(timeout=10)
        _kill_group(service.process.pid, signal.SIGKILL)  # children that outlived their leader

    def close(self) -> None:
        for name in reversed(list(self.services)):
            self.stop(name)

    def start_emulators(self, notify_bucket: str, notify_topic: str = "gcs-events") -> dict[str, float]:
        """Start Pub/Sub, fake-gcs-server (finalize events of ``notify_bucket`` → ``notify_topic``) and BigQuery.

        Returns:
            Seconds until each emulator answered.
        """
        install_state = install()
        ps, gcs, bq, bq_grpc = free_port(), free_port(), free_port(), free_port()
        self.env = {"PUBSUB_EMULATOR_HOST": f"127.0.0.1:{ps}", "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{gcs}",
                    "BIGQUERY_EMULATOR_HOST": f"http://127.0.0.1:{bq}"}
        t0 = time.monotonic()
        self.spawn("pubsub", [install_state["pubsub"], "--host=127.0.0.1", f"--port={ps}"],
                   {"JAVA_OPTS": JAVA_OPTS})
        self._spawn_bigquery(bq, bq_grpc)
        timings = {"pubsub": self.wait_ready("pubsub", f"http://127.0.0.1:{ps}/")}
        self.ensure_topics([notify_topic])  # fake-gcs drops events published to a missing topic
        self.spawn("gcs", [install_state["gcs"], "-scheme", "http", "-host", "127.0.0.1", "-port", str(gcs),
                           "-backend", "filesystem", "-filesystem-root", str(self.gcs_root),
                           "-external-url", f"http://127.0.0.1:{gcs}", "-log-level", "warn",
                           "-event.pubsub-project-id", self.project, "-event.pubsub-topic", notify_topic,
                           "-event.bucket", notify_bucket, "-event.list", "finalize"], self.env)
        timings["gcs"] = self.wait_ready("gcs", f"http://127.0.0.1:{gcs}/storage/v1/b")
        timings["bigquery"] = self.wait_ready("bigquery", f"http://127.0.0.1:{bq}/bigquery/v2/projects/"
                                                          f"{self.project}/datasets")
        timings["total"] = time.monotonic() - t0
        return timings

    def _spawn_bigquery(self, port: int, grpc_port: int) -> None:
        home = self.state / "home"
        ext_dir = home / ".duckdb/extensions" / f"v{DUCKDB}" / "linux_amd64"
        ext_dir.mkdir(parents=True, exist_ok=True)
        venv = BQ_VENV if bigquery_flavour() == "local-bigquery" else BQEMU_VENV
        for ext in venv.glob("lib/python3*/site-packages/duckdb_extension_*/extensions/*/*.duckdb_extension"):
            shutil.copy2(ext, ext_dir / ext.name)  # DuckDB cannot download extensions offline
        env = {"HOME": str(home), "GCS_LOCAL_ROOT": str(self.gcs_root), "BQEMU_GCS_LOCAL_ROOT": str(self.gcs_root)}
        if venv == BQ_VENV:
            cmd = [str(venv / "bin/local-bigquery"), "serve", "--host", "127.0.0.1", "--port", str(port),
                   "--grpc-port", str(grpc_port), "--project", self.project, "--data-dir", str(self.state / "bq")]
        else:
            cmd = [str(venv / "bin/bqemulator"), "start", "--rest-host", "127.0.0.1", "--rest-port", str(port),
                   "--grpc-host", "127.0.0.1", "--grpc-port", str(grpc_port), "--project", self.project]
        self.spawn("bigquery", cmd, env)

    # --- resources ------------------------------------------------------------------------------------

    def client_env(self) -> _Env:
        """Context manager putting the emulator variables into os.environ while clients are built."""
        return _Env(self.env)

    def ensure_topics(self, topics: Sequence[str]) -> None:
        from google.api_core.exceptions import AlreadyExists
        from google.cloud import pubsub_v1

        with self.client_env():
            publisher = pubsub_v1.PublisherClient()
        for topic in topics:
            try:
                publisher.create_topic(name=publisher.topic_path(self.project, topic))
            except AlreadyExists:
                pass

    def ensure_buckets(self, buckets: Sequence[str]) -> None:
        from google.api_core.exceptions import Conflict
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        with self.client_env():
            client = storage.Client(project=self.project, credentials=AnonymousCredentials())
        for bucket in buckets:
            try:
                client.create_bucket(bucket)
            except Conflict:
                pass


class _Env:
    def __init__(self, values: Mapping[str, str]) -> None:
        self.values, self.saved = dict(values), {}

    def __enter__(self) -> None:
        self.saved = {k: os.environ.get(k) for k in self.values}
        os.environ.update(self.values)

    def __exit__(self, *exc: object) -> None:
        for key, old in self.saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def down(state: Path, grace_s: float = 10.0) -> None:
    """Stop every process group recorded in ``state/pids`` that is still a session we started."""
    pids = state / "pids"
    if not pids.is_file():
        return
    groups = []
    for line in reversed(pids.read_text().splitlines()):
        pid = int(line.split()[0])
        try:
            if os.getsid(pid) == pid:
                _kill_group(pid, signal.SIGTERM)
                groups.append(pid)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + grace_s
    for pgid in groups:
        while time.monotonic() < deadline and _group_alive(pgid):
            time.sleep(0.1)
        _kill_group(pgid, signal.SIGKILL)
    pids.unlink()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True

