"""Serve what ships: a function archive unzipped into an empty folder, run from a clean virtual environment
built from that archive's own ``requirements.txt`` and nothing else.

Why: the emulator tier used to run the functions from the source tree, where every package and data file
of the repository is importable, so an archive missing a file (the view SQL once was) passed every test
and failed every cold start on Google Cloud. Here the function process sees only what the archive holds:

- the archive is unzipped into a folder of its own (``main.py`` at its root, as ``gcloud functions
  deploy --source`` takes it);
- the venv is made with ``python -m venv`` (no system site-packages) and gets ``pip install -r
  requirements.txt`` from the archive; pip's cache and the configured index are used, nothing else;
- the process runs ``python -I -m functions_framework`` with the unzipped folder as its working
  directory: ``-I`` ignores ``PYTHONPATH`` and keeps the working directory off ``sys.path``, and
  functions-framework adds the source folder itself, as the Cloud Functions runtime does.

Measured on this machine kind (2 cores, pip cache warm), 2026-11-30: one venv takes about 15 s alone;
both, built at the same time, about 25 s. Build them once per test session.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from tools.cloud_functions import CloudFunction

# Variables that would let a function process see the repository or another environment.
LEAKY_VARIABLES = frozenset({"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH"})


class ArchiveBuildFailed(RuntimeError):
    """The archive's requirements did not install; the message carries the end of pip's output."""


@dataclass(frozen=True)
class ServedArchive:
    """One function's archive, unzipped into ``source``, with its own venv in ``venv``."""

    function: CloudFunction
    archive: Path
    source: Path
    venv: Path
    build_s: float = 0.0

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def command(self, port: int, host: str = "127.0.0.1") -> list[str]:
        """The command that serves the function on ``host:port`` (run it with ``cwd=self.source``)."""
        return [str(self.python), "-I", "-m", "functions_framework", "--target", self.function.target,
                "--signature-type", self.function.signature_type, "--source", str(self.source / "main.py"),
                "--host", host, "--port", str(port)]

    def run(self, code: str, env: Mapping[str, str] | None = None,
            timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``code`` with the venv's Python inside the unzipped archive, as the function process would."""
        return subprocess.run([str(self.python), "-I", "-c", f"import sys; sys.path.append({str(self.source)!r})\n"
                               + code], cwd=self.source, env=clean_env(env), capture_output=True, text=True,
                              timeout=timeout_s)


def clean_env(extra: Mapping[str, str] | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (the caller's environment by default) without the variables that leak the repository."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in LEAKY_VARIABLES}
    return {**env, **(extra or {})}


def unpack(archive: Path, folder: Path) -> Path:
    """Unzip ``archive`` into ``folder``, which must be empty or absent; returns the folder.

    Raises:
        FileExistsError: the folder holds something already (the archive must be all there is).
    """
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise FileExistsError(f"{folder} is not empty: an archive is unpacked into an empty folder only")
    with zipfile.ZipFile(archive) as handle:
        handle.extractall(folder)
    return folder


def make_venv(source: Path, venv: Path, python: str = sys.executable) -> float:
    """A clean venv with exactly ``source/requirements.txt`` installed; returns the seconds it took.

    Raises:
        ArchiveBuildFailed: pip failed (the message carries its output's end).
    """
    started = time.monotonic()
    subprocess.run([python, "-m", "venv", str(venv)], check=True, capture_output=True, env=clean_env())
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check", "-r", "requirements.txt"],
                          cwd=source, env=clean_env(), capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-20:])
        raise ArchiveBuildFailed(f"pip install -r {source / 'requirements.txt'} failed:\n{tail}")
    return time.monotonic() - started


def serve_archives(archives: Mapping[CloudFunction, Path], work: Path) -> dict[str, ServedArchive]:
    """Unpack each archive under ``work/<name>/src`` and build its venv in ``work/<name>/venv``, at once.

    Returns:
        The served archive of each function, by function name, each with the seconds its venv took.
    """
    sources = {f: unpack(archive, work / f.name / "src") for f, archive in archives.items()}
    with ThreadPoolExecutor(max_workers=len(sources) or 1) as pool:
        seconds = {f: pool.submit(make_venv, source, work / f.name / "venv") for f, source in sources.items()}
        return {f.name: ServedArchive(f, archives[f], sources[f], work / f.name / "venv", seconds[f].result())
                for f in sources}
