#!/usr/bin/env python3
"""The webhook subscriber, subscriptions and participant index (`python scripts/webhooks.py --help`); the code
lives in ``tools.webhook_subscriptions``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.webhook_subscriptions import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
