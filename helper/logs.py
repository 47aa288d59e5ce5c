"""Structured JSON logs with a severity, the shape Cloud Logging parses from stdout.

Only names, counts, dates, error classes and fixes are logged. Tokens, secrets, response bodies and
health values never reach a log record: callers pass labels, and this formatter drops any extra field
whose name suggests a secret, as a second line of defence.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_FORBIDDEN = ("token", "secret", "password", "authorization", "body", "refresh")
_SEVERITY = {"WARNING": "WARNING", "ERROR": "ERROR", "CRITICAL": "CRITICAL", "INFO": "INFO", "DEBUG": "DEBUG"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "severity": _SEVERITY.get(record.levelname, "DEFAULT"),
            "message": record.getMessage(),
            "logger": record.name,
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat().replace("+00:00", "Z"),
        }
        for key, value in vars(record).items():
            if key in _STANDARD or key.startswith("_"):
                continue
            if any(word in key.lower() for word in _FORBIDDEN):
                continue
            entry[key] = value if isinstance(value, (int, float, bool, type(None))) else str(value)
        return json.dumps(entry, separators=(",", ":"))


def configure(level: int = logging.INFO, stream=None) -> None:  # noqa: ANN001
    """Install the JSON handler on the project's loggers once (idempotent)."""
    root = logging.getLogger("fitbit")
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
