#!/usr/bin/env python3
"""Provision a Google Cloud project for the pipeline (idempotent; --dry-run prints the plan) (`python scripts/provision.py --help`); the code lives in ``tools.provisioning.cli``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.provisioning.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
