"""``fitbit-pipeline schedule``: the crontab line and a systemd user timer for the daily run (printed, not installed)."""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from pathlib import Path

from tools.cli.common import EXIT_OK, Context, unsupported_on_gcp


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schedule", help="print the crontab line and a systemd timer for the daily run",
                       description="Prints, never installs: a crontab line, and a systemd user service + timer. "
                       "Runs once a day after the night's sleep has synced and been processed.")
    p.add_argument("--at", default="07:30", metavar="HH:MM", help="local time of the daily run (default %(default)s)")
    p.set_defaults(handler=schedule)


def command_line(ctx: Context) -> str:
    exe = shutil.which("fitbit-pipeline") or str(Path(sys.executable).with_name("fitbit-pipeline"))
    parts = [exe, "--state-dir", str(ctx.state_dir.resolve())]
    if ctx.api_base_url:
        parts += ["--api-base-url", ctx.api_base_url]
    if ctx.oauth_base_url:
        parts += ["--oauth-base-url", ctx.oauth_base_url]
    return shlex.join([*parts, "run"])


def schedule(args: argparse.Namespace, ctx: Context) -> int:
    unsupported_on_gcp(ctx, "schedule", "on Google Cloud the daily run and the hourly flush are Cloud Scheduler "
                       "jobs that `python scripts/provision.py` creates (docs/deploy.md)")
    hour, _, minute = args.at.partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        from tools.cli.common import CliError

        raise CliError(f"--at must be HH:MM, not {args.at!r}")
    cmd = command_line(ctx)
    log = shlex.quote(str((ctx.state_dir / "run.log").resolve()))
    print(f"""# crontab -e, then add (non-zero exit codes: 1 failures, 3 re-consent needed; cron mails the output):
{int(minute)} {int(hour)} * * * {cmd} >> {log} 2>&1

# or systemd (user units): ~/.config/systemd/user/fitbit-pipeline.service
[Unit]
Description=Fitbit pipeline: daily run

[Service]
Type=oneshot
ExecStart={cmd}

# ~/.config/systemd/user/fitbit-pipeline.timer, then: systemctl --user enable --now fitbit-pipeline.timer
[Unit]
Description=Fitbit pipeline: daily at {int(hour):02d}:{int(minute):02d}

[Timer]
OnCalendar=*-*-* {int(hour):02d}:{int(minute):02d}:00
Persistent=true

[Install]
WantedBy=timers.target""", file=ctx.out)
    return EXIT_OK
