"""``scripts/provision.py``: create (or print) the pipeline's Google Cloud resources and IAM bindings.

Safe to run any number of times: every step looks first and changes only what differs, and says so.

    python scripts/provision.py --project P --dry-run          # the whole plan, each flag on what it sets
    python scripts/provision.py --project P                    # pre-deploy phase (a project owner, once)
    python scripts/provision.py --project P --phase post-deploy  # after deploying (cloudbuild.yaml does it)
    python scripts/provision.py --project P --substitutions    # the build's --substitutions for these flags
    python scripts/provision.py --project demo-project --emulators   # buckets, topics, subscriptions,
                                                               # dataset and tables on the local emulators

Each flag configures the resources of one phase (``--flags-table`` says which). The pre-deploy run ends
by printing the ``gcloud builds submit`` command that carries the build's flags to the post-deploy
phase, so a flag given once reaches its resource whichever phase creates it. A flag given to a run of
a phase that does not use it is named on stderr, never silently dropped.

The post-deploy phase uses ``gcloud`` only and imports only the standard library, so it runs in the
Cloud SDK image on gcloud's own Python.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
from pathlib import Path
from typing import Sequence

from tools import provisioning as pv
from tools.provisioning.apply import CLIENT_KINDS, Applier
from tools.provisioning.clients import CloudClients
from tools.provisioning.config import ProvisioningError, flag, substitution
from tools.provisioning.gcloud import Gcloud, Runner, subprocess_runner

ROOT = Path(__file__).resolve().parents[2]
TABLES_SQL = ROOT / "bigquery_sql" / "create_tables.sql"
GLOBAL_FIELDS = frozenset({"project", "project_number"})  # they name everything, in every phase


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="provision.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in dataclasses.fields(pv.Config):
        kind = int if f.type in ("int", int) else str
        shown = f.metadata.get("shown", f.default)
        default = "" if f.name == "project" else f" (default: {'looked up' if shown is None else shown})"
        parser.add_argument(flag(f.name), type=kind, default=None, required=f.name == "project",
                            help=f.metadata["help"] + default)
    parser.add_argument("--phase", choices=[*pv.PHASES, "all"], help="default: pre-deploy (dry run: all)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print every resource with the flags that configure it, and every binding; change nothing")
    parser.add_argument("--roles-table", action="store_true", help="print the Markdown role table of docs/deploy.md")
    parser.add_argument("--flags-table", action="store_true", help="print the Markdown flag table of docs/deploy.md")
    parser.add_argument("--substitutions", action="store_true",
                        help="print the Cloud Build substitutions that carry these flags to the build")
    parser.add_argument("--emulators", action="store_true",
                        help="only the emulator-supported resources, through the client libraries, no gcloud")
    parser.add_argument("--bigquery-endpoint", help="BigQuery API endpoint (default: $BIGQUERY_EMULATOR_HOST)")
    return parser


def config_from_args(args: argparse.Namespace) -> pv.Config:
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(pv.Config)}
    return pv.Config(**{k: v for k, v in values.items() if v is not None})


def substitutions(plan: pv.Plan) -> str:
    """``_REGION=...,_RAW_BUCKET=...``: the value of every flag the build uses, for ``--substitutions``."""
    return ",".join(f"{substitution(name)}={getattr(plan.config, name)}" for name in plan.build_fields())


def build_command(plan: pv.Plan) -> list[str]:
    """The ``gcloud builds submit`` that deploys with this configuration (run from the repository root)."""
    c = plan.config
    return ["gcloud", "builds", "submit", "--config=cloudbuild.yaml", f"--project={c.project}",
            f"--region={c.region}",
            f"--service-account=projects/{c.project}/serviceAccounts/{c.service_account('fitbit-deployer')}",
            f"--gcs-source-staging-dir=gs://{c.build_bucket}/source", f"--substitutions={substitutions(plan)}"]


def _unused_flags(args: argparse.Namespace, plan: pv.Plan, phases: Sequence[pv.Phase]) -> list[str]:
    """A note per flag given on the command line that configures nothing in ``phases``."""
    notes = []
    for f in dataclasses.fields(pv.Config):
        if f.name in GLOBAL_FIELDS or getattr(args, f.name) is None:
            continue
        where = {phase for phase, _ in plan.uses(f.name)}
        if where and not where & set(phases):
            notes.append(f"note: {flag(f.name)} configures the {'/'.join(sorted(where))} phase, not this run; "
                         f"the build carries it as {substitution(f.name)} (see the command printed below)")
    return notes


def main(argv: Sequence[str] | None = None, *, runner: Runner = subprocess_runner,
         clients: CloudClients | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"provision: {exc}", file=sys.stderr)
        return 2
    phases = pv.PHASES if args.phase == "all" or (args.dry_run and not args.phase) else (args.phase or "pre-deploy",)
    tables_sql = TABLES_SQL.read_text()
    plan = pv.build_plan(config, tables_sql)
    if args.dry_run or args.roles_table or args.flags_table or args.substitutions:
        text = (plan.role_table() if args.roles_table else plan.flags_table() if args.flags_table
                else substitutions(plan) if args.substitutions else "\n".join(plan.lines(phases)))
        print(text)
        return 0
    try:
        if args.emulators:
            return _emulators(args, plan, clients)
        gcloud = Gcloud(config.project, runner)
        if config.project_number is None:
            number = gcloud.value("projects", "describe", config.project, field="projectNumber")
            plan = pv.build_plan(dataclasses.replace(config, project_number=number), tables_sql)
        for note in _unused_flags(args, plan, phases):
            print(note, file=sys.stderr)
        if "pre-deploy" in phases and clients is None:
            clients = CloudClients.connect(config.project, args.bigquery_endpoint)
        applier = Applier(plan, gcloud, clients)
        for phase in phases:
            print(f"# {phase}")
            applier.apply(phase)
    except ProvisioningError as exc:
        print(f"provision: {exc}", file=sys.stderr)
        return 1
    if "pre-deploy" in phases and "post-deploy" not in phases:
        print("\n# next: deploy (docs/deploy.md step 7), with these settings:\n" + shlex.join(build_command(plan)))
    return 0


def _emulators(args: argparse.Namespace, plan: pv.Plan, clients: CloudClients | None) -> int:
    missing = [v for v in ("STORAGE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST") if not os.environ.get(v)]
    if missing or not (args.bigquery_endpoint or os.environ.get("BIGQUERY_EMULATOR_HOST")):
        raise ProvisioningError("--emulators needs STORAGE_EMULATOR_HOST, PUBSUB_EMULATOR_HOST and "
                                "BIGQUERY_EMULATOR_HOST: run `python scripts/emulators.py up` first")
    clients = clients or CloudClients.connect(plan.config.project, args.bigquery_endpoint)
    Applier(plan, None, clients).apply("pre-deploy", kinds=CLIENT_KINDS, bindings=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
