"""The local Google Cloud emulators (Pub/Sub, Cloud Storage, BigQuery), in two parts with one reason each:

- ``install``: putting each emulator in its own folder beside the project venv, idempotently;
- ``stack``: starting the processes in their own sessions, waiting until they answer, stopping whole
  process groups, and creating the topics and buckets a test needs.

``cli`` is the command line of ``scripts/emulators.py``. The names below are what the rest of the repo uses.
"""

from tools.emulators.install import EmulatorMissing, bigquery_flavour, install, pubsub_launcher, python313, sdk_root
from tools.emulators.stack import PROJECT, EmulatorFailed, Service, Stack, down, free_port, http_ready

__all__ = ["PROJECT", "EmulatorFailed", "EmulatorMissing", "Service", "Stack", "bigquery_flavour", "down",
           "free_port", "http_ready", "install", "pubsub_launcher", "python313", "sdk_root"]
