"""``gcloud`` bound to one project, non-interactive, with an injectable runner (the unit tests fake it).

Why a subprocess and not client libraries for these steps: the post-deploy phase runs in the Cloud SDK
image on gcloud's own Python, where no library is installed; gcloud is what that image has.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
from typing import Any, Callable

from tools.provisioning.config import ProvisioningError


@dataclasses.dataclass
class Result:
    returncode: int
    stdout: str = ""
    stderr: str = ""


Runner = Callable[[list[str]], Result]


def subprocess_runner(args: list[str]) -> Result:
    done = subprocess.run(["gcloud", *args], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return Result(done.returncode, done.stdout, done.stderr)


class Gcloud:
    """``gcloud`` bound to one project; every command gets ``--project`` and ``--quiet``."""

    def __init__(self, project: str, runner: Runner = subprocess_runner,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.project, self.runner, self.sleep = project, runner, sleep
        self._components: set[str] | None = None

    def run(self, *args: str, check: bool = True, retry_missing: bool = False) -> Result:
        """Run one command. ``retry_missing`` retries while a just-created principal is not yet visible."""
        command = [*args, f"--project={self.project}", "--quiet"]
        for delay in (2, 4, 8, 16, 0):
            result = self.runner(command)
            if result.returncode == 0 or not (retry_missing and "does not exist" in result.stderr) or not delay:
                break
            self.sleep(delay)
        if check and result.returncode != 0:
            raise ProvisioningError(f"gcloud {' '.join(args[:3])} failed: {result.stderr.strip()[-600:]}")
        return result

    def describe(self, *args: str) -> dict[str, Any] | None:
        """The JSON of a ``describe`` command, or None when the resource does not exist."""
        result = self.run(*args, "--format=json", check=False)
        return json.loads(result.stdout or "{}") if result.returncode == 0 else None

    def json(self, *args: str, retry_missing: bool = False) -> dict[str, Any]:
        """The JSON a command prints (it must succeed)."""
        return json.loads(self.run(*args, "--format=json", retry_missing=retry_missing).stdout or "{}")

    def value(self, *args: str, field: str) -> str:
        return self.run(*args, f"--format=value({field})").stdout.strip()

    def require_component(self, component: str, why: str) -> None:
        """Fail before any change when a gcloud component is missing (``--quiet`` would try to install it).

        Raises:
            ProvisioningError: the component is not installed; the message says how to install it.
        """
        if self._components is None:
            versions = json.loads(self.runner(["version", "--format=json"]).stdout or "{}")
            self._components = set(versions)
        if component not in self._components:
            raise ProvisioningError(
                f"the gcloud '{component}' component is missing ({why}): run `gcloud components install "
                f"{component}`; where gcloud came from apt or dnf, install the google-cloud-cli package, "
                "which includes it")
