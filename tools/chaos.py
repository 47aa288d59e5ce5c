"""`make chaos`: crash the embedded run at random and check that nothing is lost or duplicated (issue #11).

Part (a), crash and resume: a 3-participant x 5-day history runs as ``scripts/run_local.py`` in a child
process, against a simulator that injects 429s, 503s and truncated bodies (three of each before every
run; unused ones are dropped, not piled up), and is SIGKILLed K times at random instants, each time
followed by a resume (the same command again). A poison batch (a value the warehouse refuses) is staged
into one of the resumes to exercise quarantine. An event the faults made fail five times is dead-lettered,
which loses nothing: it is replayed with ``scripts/dead_letters.py --replay``, as a person would, and
counted. The warehouse it ends with is compared row by row, on every data table and every column except
the lineage timestamps (``fetched_at``, ``loaded_at``), with an uninterrupted run of the same seed. The
last line is::

    chaos: <K> crashes, <L> lost, <D> duplicated, <Q> quarantined, <B> blocked flushes

L (reference rows missing), D (rows the reference does not have) and B (flushes that left a table
staged, or batches still staged at the end) must be 0; the exit status is 1 otherwise.

Hooks: parts (b) property-based fuzzing of raw pages and work messages through the real handlers, and
(c) poison values in pages, come with the parser half of issue #11. Each is a function ``Chaos ->
Counts`` added to ``PARTS``; ``--parts`` picks them and their counts are added into the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Callable, Iterator

import requests

from fitbit.catalogue import PROCESSING_LOG_TABLE, all_tables
from tools import demo

ROOT = Path(__file__).resolve().parent.parent
RUN = [sys.executable, str(ROOT / "scripts/run_local.py")]
LINEAGE_TIMES = ("fetched_at", "loaded_at", "processed_at")  # when, not what: differ between any two runs
POISON_TABLE = "steps_daily"
INT64_MAX = 2**63 - 1


@dataclass
class Counts:
    crashes: int = 0
    lost: int = 0
    duplicated: int = 0
    quarantined: int = 0
    blocked: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(vars(self).values(), vars(other).values(), strict=True)))

    def line(self) -> str:
        return (f"chaos: {self.crashes} crashes, {self.lost} lost, {self.duplicated} duplicated, "
                f"{self.quarantined} quarantined, {self.blocked} blocked flushes")


@dataclass
class Chaos:
    """What every part needs: the cohort, the seed, a folder of its own, and somewhere to say things."""

    state: Path
    kills: int
    seed: int
    users: int = 3
    days: int = 5
    end: date = demo.DEFAULT_END_DATE
    faults: int = 3  # of each kind (429, 503, truncated body), injected before every run
    poison_batches: int = 1
    say: Callable[[str], None] = print
    figures: dict[str, float] = field(default_factory=dict)

    @property
    def participants(self) -> list[str]:
        return [f"user{i}" for i in range(1, self.users + 1)]

    def simulator(self) -> AbstractContextManager[demo.SimulatorProcess]:
        # Every night already processed: no sleep re-read whose timing would differ between the two runs.
        return demo.simulator_process(self.users, self.days, seed=self.seed, end_date=self.end,
                                      extra_args=("--sleep-processing-seconds", "0"))

    def run_command(self, state: Path, base_url: str, stats: Path) -> tuple[list[str], dict[str, str]]:
        env = {**os.environ, **demo.demo_settings(state, base_url).to_env(), "PYTHONUNBUFFERED": "1"}
        args = [*RUN, "--date", self.end.isoformat(), "--days", str(self.days), "--reason", "backfill",
                "--run-id", "chaos-history", "--stats-json", str(stats)]
        return args, env


def crash_and_resume(chaos: Chaos) -> Counts:
    """Part (a): K SIGKILLs at random instants, each followed by a resume; compared with a clean run."""
    rng = random.Random(chaos.seed)
    reference, crashed = chaos.state / "reference", chaos.state / "crashed"
    with chaos.simulator() as sim:
        demo.enrol(demo.fresh_state_dir(reference), sim.base_url, chaos.participants)
        _inject_faults(sim.base_url, chaos.faults)  # after enrolment: its identity calls count as data requests
        started = time.monotonic()
        _run_to_end(chaos, reference, sim.base_url, "reference")
        clean_s = chaos.figures["reference_s"] = time.monotonic() - started
        _replay_dead_letters(chaos, reference, sim.base_url)
        started = time.monotonic()
        _run_to_end(chaos, reference, sim.base_url, "idle resume", resume=True)
        startup_s = chaos.figures["idle_resume_s"] = time.monotonic() - started
    chaos.say(f"chaos: uninterrupted run {clean_s:.1f} s; a resume with nothing to do {startup_s:.1f} s")
    blocked = crashes = 0
    work_left = max(clean_s - startup_s, 1.0)
    with chaos.simulator() as sim:
        demo.enrol(demo.fresh_state_dir(crashed), sim.base_url, chaos.participants)
        poison_at = {int(chaos.kills * (i + 1) / (chaos.poison_batches + 1)) for i in range(chaos.poison_batches)}
        for attempt in range(chaos.kills * 3):  # a run that ends before its kill is not a crash: try again
            if crashes >= chaos.kills:
                break
            if crashes in poison_at:
                poison_at.discard(crashes)
                _stage_poison(crashed, crashes)
            _inject_faults(sim.base_url, chaos.faults)
            # Any instant of a run: start-up (lock, recovery flush, sweep) or deliveries, spread so that some
            # work is left for every kill to interrupt and for the final resume.
            delay = rng.uniform(0.2, startup_s + 2.0 * work_left / (chaos.kills - crashes + 1))
            outcome = _run_and_kill(chaos, crashed, sim.base_url, delay, f"run {attempt + 1}")
            crashes += outcome == "killed"
            blocked += outcome if isinstance(outcome, int) else 0
            work_left = max(work_left - max(delay - startup_s, 0.0), 1.0)
        started = time.monotonic()
        blocked += _run_to_end(chaos, crashed, sim.base_url, "final resume")  # the same command: it resumes
        chaos.figures["final_resume_s"] = time.monotonic() - started
        chaos.figures["dead_letters_replayed"] = _replay_dead_letters(chaos, crashed, sim.base_url)  # none lost
    lost, duplicated = compare(reference, crashed)
    if lost or duplicated:
        _explain(chaos, reference, crashed)
    quarantined = _quarantined(crashed)
    leftover = sum(1 for _ in (crashed / "staging").rglob("*.ndjson"))
    if leftover:
        chaos.say(f"chaos: {leftover} batches still staged after the final run")
    return Counts(crashes, lost, duplicated, quarantined, blocked + leftover)


def _run_to_end(chaos: Chaos, state: Path, base_url: str, label: str, *, resume: bool = False) -> int:
    """Run until the command exits by itself; returns the blocked flushes it reported."""
    stats = state / "run-stats.json"
    args, env = chaos.run_command(state, base_url, stats)
    args += ["--resume"] if resume else []
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"{label} exited {done.returncode}:\n{done.stderr[-2000:]}")
    figures = json.loads(stats.read_text())
    if figures.get("pending"):
        raise RuntimeError(f"{label} paused with {figures['pending']} pending deliveries")
    chaos.say(f"chaos: {label}: {figures['delivered']} deliveries, {figures['resumed']} resumed, "
              f"{figures['orphans']} orphans, {len(figures['quarantined'])} quarantined, "
              f"{len(figures['dead_lettered'])} dead-lettered, {figures['seconds']:.1f} s")
    return int(figures["blocked_flushes"])


def _run_and_kill(chaos: Chaos, state: Path, base_url: str, delay: float, label: str) -> str | int:
    """Start a resume and SIGKILL it after ``delay`` s: "killed", or the blocked flushes of a run that ended."""
    stats = state / "run-stats.json"
    stats.unlink(missing_ok=True)
    args, env = chaos.run_command(state, base_url, stats)
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        chaos.say(f"chaos: {label} killed after {delay:.2f} s")
        return "killed"
    finally:
        if proc.stderr is not None:
            error = proc.stderr.read()
            proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{label} exited {proc.returncode} before its kill:\n{error[-2000:]}")
    chaos.say(f"chaos: {label} finished before its kill at {delay:.2f} s")
    return int(json.loads(stats.read_text())["blocked_flushes"])


def _replay_dead_letters(chaos: Chaos, state: Path, base_url: str) -> int:
    """Replay what the injected faults dead-lettered, as a person would (scripts/dead_letters.py --replay)."""
    import sqlite3

    queue = sqlite3.connect(str(state / "queue.sqlite"))
    (count,) = queue.execute("SELECT COUNT(*) FROM dead_letters").fetchone()
    queue.close()
    if count:
        _, env = chaos.run_command(state, base_url, state / "run-stats.json")
        done = subprocess.run([sys.executable, str(ROOT / "scripts/dead_letters.py"), "--replay"], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise RuntimeError(f"the dead-letter replay exited {done.returncode}:\n{done.stderr[-2000:]}")
        chaos.say(f"chaos: {count} dead letters (faults outlasting 5 deliveries) replayed in {state.name}")
    return count


def _inject_faults(base_url: str, count: int) -> None:
    """At most ``count`` of each fault pending: faults a killed run left unused are dropped, not piled up."""
    requests.post(base_url + "_admin/reset", json={}, timeout=10).raise_for_status()
    body = {"rate_limit_burst": count, "retry_after_s": 1}
    requests.post(base_url + "_admin/faults", json=body, timeout=10).raise_for_status()
    for knob in ("server_errors", "truncated_bodies"):
        requests.post(base_url + "_admin/faults", json={knob: count}, timeout=10).raise_for_status()


def _stage_poison(state: Path, n: int) -> None:
    """A staged batch the warehouse refuses (an INT64 one past its maximum), as a parser bug would stage it."""
    folder = state / "staging" / POISON_TABLE
    folder.mkdir(parents=True, exist_ok=True)
    row = {"participant_id": "user1", "civil_date": "2000-01-01", "steps": INT64_MAX + 1,
           "raw_object": f"chaos/poison-{n}", "parser_version": "chaos", "fetched_at": "2000-01-02T00:00:00Z",
           "loaded_at": "2000-01-02T00:00:00Z"}
    (folder / f"chaos_poison-{n}.ndjson").write_text(json.dumps(row) + "\n")


@contextmanager
def _warehouse(state: Path) -> Iterator[Any]:
    """The state dir's DuckDB, read-only (the runs are over)."""
    import duckdb

    db = duckdb.connect(str(state / "warehouse.duckdb"), read_only=True)
    try:
        yield db
    finally:
        db.close()


def _rows(state: Path) -> dict[str, Counter]:
    with _warehouse(state) as db:
        out = {}
        for table in all_tables():
            if table.name == PROCESSING_LOG_TABLE.name:
                continue
            cols = ", ".join(c for c in table.column_names if c not in LINEAGE_TIMES)
            out[table.name] = Counter(db.execute(f'SELECT {cols} FROM fitbit."{table.name}"').fetchall())
        return out


def compare(reference: Path, crashed: Path) -> tuple[int, int]:
    """(rows of the reference missing from the crashed run, rows of the crashed run not in the reference)."""
    expected, actual = _rows(reference), _rows(crashed)
    lost = sum(sum((expected[t] - actual[t]).values()) for t in expected)
    duplicated = sum(sum((actual[t] - expected[t]).values()) for t in expected)
    return lost, duplicated


def _explain(chaos: Chaos, reference: Path, crashed: Path) -> None:
    """Where the difference is: tables, raw objects only one run has, dead letters and failed outcomes."""
    import sqlite3

    expected, actual = _rows(reference), _rows(crashed)
    for table in expected:
        lost, extra = expected[table] - actual[table], actual[table] - expected[table]
        if lost or extra:
            chaos.say(f"chaos:   {table}: {sum(lost.values())} lost, {sum(extra.values())} extra")
    names = [{p.relative_to(s / "raw" / "objects").as_posix() for p in (s / "raw" / "objects").rglob("*")
              if p.is_file() and not p.name.startswith(".tmp-")} for s in (reference, crashed)]
    chaos.say(f"chaos:   raw objects only in the reference: {sorted(names[0] - names[1])[:10]}")
    chaos.say(f"chaos:   raw objects only in the crashed run: {sorted(names[1] - names[0])[:10]}")
    queue = sqlite3.connect(str(crashed / "queue.sqlite"))
    chaos.say(f"chaos:   dead letters: {queue.execute('SELECT subject, attempts FROM dead_letters').fetchall()[:10]}")
    queue.close()
    with _warehouse(crashed) as db:
        outcomes = db.execute("SELECT status, error_class, COUNT(*) FROM fitbit.processing_log "
                              "GROUP BY 1, 2").fetchall()
    chaos.say(f"chaos:   outcomes of the crashed run: {outcomes}")


def _quarantined(state: Path) -> int:
    with _warehouse(state) as db:
        rows = db.execute("SELECT COUNT(*) FROM fitbit.processing_log WHERE status = 'quarantined'").fetchall()
    return int(rows[0][0])


PARTS: dict[str, Callable[[Chaos], Counts]] = {"a": crash_and_resume}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.chaos", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs of the embedded run (default 10)")
    parser.add_argument("--seed", type=int, default=11, help="simulator data and kill instants")
    parser.add_argument("--faults", type=int, default=3, help="429s, 503s and truncated bodies injected per run")
    parser.add_argument("--poison-batches", type=int, default=1, help="staged batches the warehouse must refuse")
    parser.add_argument("--parts", default="".join(PARTS), help=f"parts to run, of {''.join(PARTS)}")
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".state" / "chaos")
    args = parser.parse_args(argv)
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}; this build has {sorted(PARTS)}")
    chaos = Chaos(demo.fresh_state_dir(args.state_dir), args.kills, args.seed, faults=args.faults,
                  poison_batches=args.poison_batches, say=lambda text: print(text, flush=True))
    started = time.monotonic()
    total = Counts()
    for part in args.parts:
        total = total + PARTS[part](chaos)
    figures = ", ".join(f"{k} {v:.1f} s" if k.endswith("_s") else f"{k} {v:g}" for k, v in chaos.figures.items())
    print(f"chaos: {time.monotonic() - started:.0f} s in all ({figures})")
    print(total.line())
    return 0 if total.lost == total.duplicated == total.blocked == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
