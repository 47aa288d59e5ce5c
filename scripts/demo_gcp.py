#!/usr/bin/env python3
"""The demo on emulated Google Cloud (make demo-gcp) (`python scripts/demo_gcp.py --help`); the code lives in ``tools.emulated_gcp``."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.emulated_gcp import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
