#!/usr/bin/env python3
"""Count, show and replay dead-lettered messages on either runtime (`python scripts/dead_letters.py --help`).

The code lives in ``tools.dead_letters``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.dead_letters import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
