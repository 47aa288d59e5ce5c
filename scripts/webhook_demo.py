#!/usr/bin/env python3
"""Webhooks on the embedded default, with the change-to-row latency (`python scripts/webhook_demo.py --help`); the code lives in ``tools.webhook_demo``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.webhook_demo import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
