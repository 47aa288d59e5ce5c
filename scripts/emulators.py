#!/usr/bin/env python3
"""Install, start or stop the local Google Cloud emulators (`python scripts/emulators.py --help`); the code lives in ``tools.emulators``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.emulators.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
