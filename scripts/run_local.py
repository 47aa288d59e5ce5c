#!/usr/bin/env python3
"""One run of the embedded pipeline on a state dir; run it again to resume (`python scripts/run_local.py --help`).

The code lives in ``tools.run_local``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.run_local import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
