"""``scripts/emulators.py``: install, start or stop the local Google Cloud emulators.

    python scripts/emulators.py install
    python scripts/emulators.py up [--state DIR]     # prints `export ...`; pids in DIR/pids
    python scripts/emulators.py down [--state DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tools.emulators.install import ROOT, EmulatorMissing, install
from tools.emulators.stack import EmulatorFailed, Stack, down


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["install", "up", "down"])
    parser.add_argument("--state", type=Path, default=ROOT / ".state" / "emulators")
    parser.add_argument("--bucket", default="fitbit-raw", help="the bucket whose new objects are notified")
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            started = time.monotonic()
            for name, where in install().items():
                print(f"{name}: {where}")
            print(f"installed in {time.monotonic() - started:.1f} s")
        elif args.command == "up":
            stack = Stack(args.state)
            timings = stack.start_emulators(args.bucket)
            stack.services.clear()  # leave them running: `down` stops them from the pid file
            print(" ".join(f"{k}={v:.2f}s" for k, v in timings.items()), file=sys.stderr)
            print("export " + " ".join(f"{k}={v}" for k, v in stack.env.items()))
            (args.state / "env.json").write_text(json.dumps(stack.env))
        else:
            down(args.state)
    except (EmulatorMissing, EmulatorFailed) as exc:
        print(f"emulators: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
