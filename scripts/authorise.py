#!/usr/bin/env python3
"""One-time consent for one participant (`python scripts/authorise.py --help`); the code lives in ``tools.authorise``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.authorise import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
