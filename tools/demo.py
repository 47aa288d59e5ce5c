"""The embedded demo as a library: start the simulator, enrol its participants, run, summarise.

``scripts/demo.py`` is the command (`make demo`); tests use these functions to run the same flow.
Enrolment goes through the real authorise flow (authorisation code + PKCE + state against the
simulator's OAuth endpoints), with this process playing the browser.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Iterator

import requests

from fitbit.oauth import OAuthClientConfig
from fitbit.messages import RunTrigger
from tools.local_runtime import LocalRuntime, RunStats
from helper.secrets import LocalSecretStore, ParticipantGrant, save_oauth_client
from helper.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_END_DATE = date(2026, 11, 5)  # the simulator's default: its 14 days cross the EU and US DST changes
# The simulator rewrites the most recent night as processed this long after it starts; the demo re-reads an
# unprocessed sleep after the same delay, so the history sees the night unprocessed and the re-read sees it done.
SLEEP_PROCESSING_S = 20


@dataclass(frozen=True)
class SimulatorProcess:
    base_url: str
    process: subprocess.Popen


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def simulator_process(users: int, days: int, *, seed: int = 42, end_date: date = DEFAULT_END_DATE,
                      extra_args: tuple[str, ...] = ()) -> Iterator[SimulatorProcess]:
    """Run `python -m simulator` as a separate process on a free port; always stopped on exit."""
    port = free_port()
    cmd = [sys.executable, "-m", "simulator", "--users", str(users), "--days", str(days), "--seed", str(seed),
           "--port", str(port), "--end-date", end_date.isoformat(),
           "--sleep-processing-seconds", str(SLEEP_PROCESSING_S), *extra_args]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base_url = _wait_for_listening(proc)
        yield SimulatorProcess(base_url, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_for_listening(proc: subprocess.Popen, timeout_s: float = 60.0) -> str:
    deadline = time.monotonic() + timeout_s
    if proc.stdout is None:
        raise RuntimeError("the simulator was started without a stdout pipe")
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the simulator exited early (code {proc.poll()})")
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            url = match.group(1)
            return url if url.endswith("/") else url + "/"
    raise RuntimeError("the simulator did not start listening within 60 s")


def enrol(state_dir: Path, base_url: str, participants: list[str]) -> None:
    """Run the authorise flow for each participant against the simulator, storing grants locally."""
    from tools.authorise import run_authorise

    store = LocalSecretStore(state_dir / "secrets.json")
    config = OAuthClientConfig.for_base_url(base_url)
    save_oauth_client(store, config)
    session = requests.Session()
    for participant in participants:
        run_authorise(participant, store=store, client_config=config, api_base_url=base_url,
                      login_hint=participant, open_browser=lambda url: _play_browser(session, url),
                      err=_Quiet())


def enrol_minted(state_dir: Path, base_url: str, participants: list[str]) -> None:
    """Enrol a whole cohort at once with grants the simulator mints (``POST /_admin/tokens``), no consent dance.

    For benchmarks at cohort size, where the consent flow (six requests and two secret writes per
    participant) is not what is measured. The grants are the same records ``enrol`` stores: refresh token,
    scopes, healthUserId and time zone (from ``GET /_admin/cohort``), written in one atomic file write.
    """
    store = LocalSecretStore(state_dir / "secrets.json")
    save_oauth_client(store, OAuthClientConfig.for_base_url(base_url))
    now = datetime.now(UTC)
    with requests.Session() as session:
        cohort = {u["user"]: u for u in session.get(base_url + "_admin/cohort", timeout=60).json()["users"]}
        grants = []
        for participant in participants:
            minted = session.post(base_url + "_admin/tokens", json={"user": participant}, timeout=30).json()
            person = cohort[participant]
            grants.append(ParticipantGrant(participant, minted["refresh_token"], tuple(minted["scope"].split()),
                                           person["healthUserId"], person["timeZone"], now))
    store.put_many({g.secret_name: g.to_json() for g in grants})


class _Quiet:
    """Swallows the authorise script's per-participant notes; the demo prints its own summary."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None


def _play_browser(session: requests.Session, url: str) -> None:
    """Do what the user's browser would: follow the consent redirect back to the loopback server."""
    response = session.get(url, allow_redirects=False, timeout=30)
    location = response.headers.get("Location")
    if response.status_code not in (301, 302, 303, 307) or not location:
        raise RuntimeError(f"the consent page answered {response.status_code} without a redirect")
    session.get(location, timeout=30)


def demo_settings(state_dir: Path, base_url: str, **overrides: str) -> Settings:
    env = {"FITBIT_RUNTIME": "local", "FITBIT_STATE_DIR": str(state_dir), "HEALTH_API_BASE_URL": base_url,
           "OAUTH_BASE_URL": base_url, "SLEEP_REFETCH_DELAY_S": str(SLEEP_PROCESSING_S), **overrides}
    return Settings.from_env(env)


def run_demo_flow(settings: Settings, end_date: date, days: int) -> tuple[LocalRuntime, RunStats]:
    """The 14-day history, then the daily job (its sliding re-fetch window), until the queue is empty.

    Each trigger is published once per state dir, so the same flow on the state dir of an interrupted demo
    resumes it (``scripts/demo.py --resume``) instead of starting over.
    """
    runtime = LocalRuntime(settings, keep_journal=True)  # tests replay the demo's journal
    runtime.publish_once("history", [RunTrigger(end_date, days, "backfill", run_id="history")])
    runtime.run_until_empty()
    runtime.publish_once("daily", [RunTrigger(end_date, settings.refetch_days, "daily", run_id="daily")])
    return runtime, runtime.run_until_empty()


def fresh_state_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    os.chmod(path, 0o700)
    return path
