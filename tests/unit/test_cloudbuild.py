"""cloudbuild.yaml: its structure, the order of its steps, and agreement with the docs, the plan, the declared
functions and the code."""

from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path

import pytest
import yaml
from _pytest.mark.expression import Expression

from tools import provisioning as pv
from tools.cloud_functions import FUNCTIONS
from tools.provisioning.config import flag, substitution

ROOT = Path(__file__).resolve().parents[2]
BUILD = yaml.safe_load((ROOT / "cloudbuild.yaml").read_text())
STEPS = {step["id"]: step for step in BUILD["steps"]}
DEPLOYS = {f.name: STEPS[f"deploy-{f.name.replace('_', '-')}"] for f in FUNCTIONS}
PLAN = pv.build_plan(pv.Config("demo-project", project_number="123456789012"),
                     (ROOT / "bigquery_sql/create_tables.sql").read_text())
CLOUD_SDK_IMAGE = "gcr.io/google.com/cloudsdktool/google-cloud-cli:"
# Substitutions that are not provisioning flags: the functions' instance caps and the optional Sheets export.
INSTANCE_CAPS = {"_EXTRACT_MAX_INSTANCES", "_TRANSFORM_MAX_INSTANCES", "_NOTIFY_MAX_INSTANCES",
                 "_SHEETS_EXPORT_SPREADSHEET_ID"}
BUILT_IN = {"PROJECT_ID": "demo-project", "PROJECT_NUMBER": "123456789012"}
# Cloud Build's own substitutions; any other $NAME must be a user substitution, and $$ is a literal $.
CLOUD_BUILD_BUILT_INS = {"PROJECT_ID", "PROJECT_NUMBER", "BUILD_ID", "LOCATION", "TRIGGER_NAME", "COMMIT_SHA",
                         "REVISION_ID", "SHORT_SHA", "REPO_NAME", "REPO_FULL_NAME", "BRANCH_NAME", "TAG_NAME",
                         "REF_NAME", "TRIGGER_BUILD_CONFIG_PATH", "SERVICE_ACCOUNT_EMAIL", "SERVICE_ACCOUNT"}
_REF = re.compile(r"(?<!\$)\$\{(\w+)\}|(?<!\$)\$(\w+)")


def resolve(text: str) -> str:
    """Substitute as Cloud Build does with dynamic substitutions: user defaults, then built-ins."""
    values = {**BUILT_IN, **BUILD["substitutions"]}
    for _ in range(3):
        text = _REF.sub(lambda m: str(values[m.group(1) or m.group(2)]), text)
    return text


def flags(step: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for arg in step["args"]:
        if arg.startswith("--"):
            name, _, value = arg.partition("=")
            out.setdefault(name, []).append(value)
    return out


def _depends_on(step_id: str) -> set[str]:
    """Every step ``step_id`` waits for, directly or not (no waitFor: all the steps before it)."""
    ids = [s["id"] for s in BUILD["steps"]]
    direct = STEPS[step_id].get("waitFor", ids[: ids.index(step_id)])
    return set(direct).union(*(_depends_on(d) for d in direct if d != "-"))


def _post_deploy_command() -> list[str]:
    """The words of the post-deploy step's provision.py command (a bash script, continuation lines joined)."""
    script = STEPS["post-deploy"]["args"][-1].replace("\\\n", " ")
    (line,) = [ln for ln in script.splitlines() if "scripts/provision.py" in ln]
    return shlex.split(line)


def test_every_step_has_a_unique_id_an_image_and_arguments():
    ids = [s["id"] for s in BUILD["steps"]]
    assert len(ids) == len(set(ids)) == len(STEPS)
    for step in BUILD["steps"]:
        assert step["name"] and isinstance(step["args"], list) and step["args"], step["id"]


def test_there_is_one_deploy_step_per_declared_function_and_no_other():
    assert {s for s in STEPS if s.startswith("deploy-")} == {f"deploy-{f.name.replace('_', '-')}" for f in FUNCTIONS}


def test_gcloud_steps_use_the_current_cloud_sdk_image_name():
    gcloud_steps = [s for s in BUILD["steps"] if "cloudsdktool" in s["name"]]
    assert len(gcloud_steps) == len(FUNCTIONS) + 1
    assert all(s["name"].startswith(CLOUD_SDK_IMAGE) for s in gcloud_steps), [s["name"] for s in gcloud_steps]


def test_the_build_runs_as_the_deployer_and_logs_where_a_user_managed_account_can():
    assert resolve(BUILD["serviceAccount"]) == \
        "projects/demo-project/serviceAccounts/fitbit-deployer@demo-project.iam.gserviceaccount.com"
    assert BUILD["options"]["logging"] == "CLOUD_LOGGING_ONLY"


def test_there_is_one_substitution_per_provisioning_flag_the_build_uses_defaulting_to_the_flags_default():
    expected = {substitution(name) for name in PLAN.build_fields()}
    assert set(BUILD["substitutions"]) - INSTANCE_CAPS == expected
    defaults = pv.Config("demo-project")
    for name in PLAN.build_fields():
        assert resolve(str(BUILD["substitutions"][substitution(name)])) == str(getattr(defaults, name)), name


def test_every_substitution_used_is_defined_and_every_one_defined_is_used():
    text = (ROOT / "cloudbuild.yaml").read_text()
    body = re.sub(r"#.*", "", text.split("steps:", 1)[1]).replace("$$", "")
    referenced = {m.group(1) or m.group(2) for m in _REF.finditer(body)}
    assert referenced - CLOUD_BUILD_BUILT_INS <= set(BUILD["substitutions"]), "an undefined $NAME fails the build"
    used = {name for name in referenced if name.startswith("_")}
    assert used == set(BUILD["substitutions"])
    assert all(k.startswith("_") and k.isupper() for k in BUILD["substitutions"])
    assert BUILD["options"]["dynamicSubstitutions"] is True  # _RAW_BUCKET's default names ${PROJECT_ID}


def test_the_tests_run_the_offline_tier_only():
    args = STEPS["test"]["args"]
    expression = Expression.compile(args[args.index("-m", 2) + 1])
    assert expression.evaluate(lambda marker: False), "plain unit tests would be deselected"
    for marker in ("slow", "emulator", "live"):
        assert not expression.evaluate(lambda m, marker=marker: m == marker), f"{marker} tests would run"
    assert args[:2] == ["-m", "pytest"]


def test_nothing_deploys_before_the_tests_pass_and_the_post_deploy_waits_for_both_deploys():
    for step in DEPLOYS.values():
        assert {"install", "test", "package"} <= _depends_on(step["id"])
    assert {s["id"] for s in DEPLOYS.values()} <= _depends_on("post-deploy")


def test_the_package_step_checks_the_pins_and_unpacks_each_archive_where_its_deploy_reads_it():
    script = STEPS["package"]["args"][-1]
    assert "create_cloud_function_zip.py --check" in script
    for name, step in DEPLOYS.items():
        (source,) = flags(step)["--source"]
        assert source == f"dist/{name}" and "dist/$$fn.zip" in script
    assert f"for fn in {' '.join(f.name for f in FUNCTIONS)}" in script


@pytest.mark.parametrize("name", [f.name for f in FUNCTIONS if f.event_driven])
def test_each_event_function_deploys_as_gen2_with_retry_its_own_identities_and_a_bounded_timeout(name):
    step, f = DEPLOYS[name], flags(DEPLOYS[name])
    function = next(fn for fn in FUNCTIONS if fn.name == name)
    assert step["args"][:3] == ["functions", "deploy", function.deployed_name]
    assert "--gen2" in step["args"] and "--retry" in step["args"]
    account = f"{function.account_id}@demo-project.iam.gserviceaccount.com"
    assert [resolve(v) for v in f["--service-account"]] == [account]
    assert [resolve(v) for v in f["--trigger-service-account"]] == [account]
    assert f["--entry-point"] == [name]
    assert int(f["--timeout"][0].removesuffix("s")) <= 540
    assert f["--memory"] and f["--concurrency"] == ["1"]
    assert f["--runtime"] == ["python311"]
    assert "--allow-unauthenticated" not in step["args"]
    assert f["--ingress-settings"] == ["internal-only"]


@pytest.mark.parametrize("name", [f.name for f in FUNCTIONS if not f.event_driven])
def test_an_http_function_is_reachable_from_google_warm_and_changes_no_iam_policy(name):
    """Google's webhook sender holds no identity of ours, so the function must take unauthenticated calls;
    but both --allow-unauthenticated and --no-allow-unauthenticated set an IAM policy, which the build may
    not do: neither is given, and docs/deploy.md has the owner's one-time grant."""
    step, f = DEPLOYS[name], flags(DEPLOYS[name])
    function = next(fn for fn in FUNCTIONS if fn.name == name)
    assert step["args"][:3] == ["functions", "deploy", function.deployed_name]
    assert "--gen2" in step["args"] and "--trigger-http" in step["args"]
    assert "--retry" not in step["args"] and "--trigger-service-account" not in f  # HTTP: the caller retries
    assert not {"--allow-unauthenticated", "--no-allow-unauthenticated"} & set(step["args"])
    assert [resolve(v) for v in f["--service-account"]] == [f"{function.account_id}@demo-project.iam.gserviceaccount.com"]
    assert f["--entry-point"] == [name] and f["--runtime"] == ["python311"]
    assert f["--ingress-settings"] == ["all"] and f["--min-instances"] == ["1"]
    assert int(f["--timeout"][0].removesuffix("s")) <= 60, "Google waits seconds, not minutes, for a 204"
    assert int(f["--concurrency"][0]) > 1 and f["--cpu"] == ["1"]  # Cloud Run: concurrency > 1 needs a whole CPU
    assert "allow-unauthenticated" in (ROOT / "docs" / "deploy.md").read_text()


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.name)
def test_each_deploy_step_carries_the_trigger_its_declaration_names(function):
    f = flags(DEPLOYS[function.name])
    if function.trigger == "units-topic":
        assert f["--trigger-topic"] == ["${_UNITS_TOPIC}"] and "--trigger-event-filters" not in f
    elif function.trigger == "raw-bucket":
        assert sorted(f["--trigger-event-filters"]) == ["bucket=${_RAW_BUCKET}",
                                                        "type=google.cloud.storage.object.v1.finalized"]
        assert f["--trigger-location"] == ["${_REGION}"] and "--trigger-topic" not in f
    else:
        assert function.trigger == "http" and "--trigger-http" in DEPLOYS[function.name]["args"]
        assert not {"--trigger-topic", "--trigger-event-filters", "--trigger-location"} & set(f)


def test_the_deploys_use_the_identities_and_names_the_provisioning_plan_creates():
    config = pv.Config("demo-project", region=resolve("${_REGION}"), raw_bucket=resolve("${_RAW_BUCKET}"),
                       units_topic=resolve("${_UNITS_TOPIC}"), dataset=resolve("${_DATASET}"))
    plan = pv.build_plan(config, (ROOT / "bigquery_sql/create_tables.sql").read_text())
    emails = {r.email for r in plan.resources if isinstance(r, pv.ServiceAccount)}
    used = {resolve(v) for step in DEPLOYS.values() for v in flags(step)["--service-account"]}
    used |= {resolve(v).rsplit("/", 1)[1] for step in DEPLOYS.values() for v in flags(step)["--build-service-account"]}
    assert used <= emails
    topics = {resolve(v) for step in DEPLOYS.values() for v in flags(step).get("--trigger-topic", [])}
    assert topics == {config.units_topic}
    buckets = {resolve(v) for step in DEPLOYS.values() for v in flags(step).get("--trigger-event-filters", [])
               if v.startswith("bucket=")}
    assert buckets == {f"bucket={config.raw_bucket}"}
    assert {resolve(v) for step in DEPLOYS.values() for v in flags(step).get("--trigger-location", [])} == {
        config.region}


def test_the_post_deploy_step_passes_exactly_the_flags_of_the_post_deploy_phase():
    words = _post_deploy_command()
    given = dict(w[2:].split("=", 1) for w in words if w.startswith("--"))
    post = PLAN.fields_of("post-deploy")
    assert set(given) == {"phase", "project", "project-number", *(flag(n)[2:] for n in post)}
    assert given["phase"] == "post-deploy"
    for name in post:
        assert given[flag(name)[2:]] == f"${{{substitution(name)}}}", name
    assert resolve(given["project-number"]) == BUILT_IN["PROJECT_NUMBER"]


def test_the_post_deploy_step_runs_on_the_python_bundled_with_gcloud_with_nothing_installed():
    step = STEPS["post-deploy"]
    assert step["name"].startswith(CLOUD_SDK_IMAGE) and step["entrypoint"] == "bash"
    script = step["args"][-1]
    assert "gcloud info --format='value(basic.python_location)'" in script
    assert "pip" not in script and "apt-get" not in script
    assert _post_deploy_command()[:2] == ["$$python", "scripts/provision.py"]
    assert set(step["waitFor"]) == {s["id"] for s in DEPLOYS.values()}


def test_the_build_settings_provisioning_prints_are_the_substitutions_the_build_takes():
    from tools.provisioning import cli

    config = dataclasses.replace(PLAN.config, max_delivery_attempts=12)
    printed = dict(p.split("=", 1) for p in cli.substitutions(pv.build_plan(config, "")).split(","))
    assert set(printed) == set(BUILD["substitutions"]) - INSTANCE_CAPS and printed["_MAX_DELIVERY_ATTEMPTS"] == "12"
    command = cli.build_command(pv.build_plan(config, ""))
    assert "--config=cloudbuild.yaml" in command and f"--region={config.region}" in command
    assert resolve(BUILD["serviceAccount"]) == command[command.index("--config=cloudbuild.yaml") + 3].split("=", 1)[1]


def test_the_env_vars_are_ones_settings_reads_and_enough_for_the_gcp_runtime():
    read = set(re.findall(r'env\.get\("([A-Z_]+)"', (ROOT / "helper/settings.py").read_text()))
    read |= set(re.findall(r'_(?:int|float|bool|url)\(env, "([A-Z_]+)"', (ROOT / "helper/settings.py").read_text()))
    for step in DEPLOYS.values():
        (pairs,) = flags(step)["--set-env-vars"]
        env = dict(p.split("=", 1) for p in resolve(pairs).split(","))
        assert set(env) <= read, set(env) - read
        assert env["FITBIT_RUNTIME"] == "gcp" and env["GCP_PROJECT"] == "demo-project"


def _promised_flags() -> dict[str, set[str]]:
    """The flag cells of docs/deploy.md's "Deploy flags" table, per function, plus README mentions."""
    docs = (ROOT / "docs" / "deploy.md").read_text()
    table = docs.split("### Deploy flags", 1)[1].split("\n\n")[2]
    names = [f.name for f in FUNCTIONS]
    promised: dict[str, set[str]] = {name: set() for name in names}
    header = [c.strip() for c in table.splitlines()[0].strip("|").split("|")]
    assert header[1: len(names) + 1] == names, "the deploy-flags table needs one column per declared function"
    for row in table.splitlines()[2:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        for name, cell in zip(names, cells[1: len(names) + 1], strict=True):
            promised[name] |= set(re.findall(r"`(--[^`]+)`", cell))
    readme = (ROOT / "README.md").read_text()
    for line in readme.splitlines():
        if "gcloud functions deploy" in line or "cloudbuild.yaml" in line:
            for flag in re.findall(r"`(--[a-z-]+(?:=[^`]*)?)`", line):
                for name in names:
                    promised[name].add(flag)
    return promised


@pytest.mark.parametrize("name", [f.name for f in FUNCTIONS])
def test_every_deploy_flag_the_docs_promise_is_in_the_build(name):
    promised = _promised_flags()[name]
    assert len(promised) >= 15, "the docs' deploy-flags table was not found or lost rows"
    missing = promised - set(DEPLOYS[name]["args"])
    assert not missing, f"docs/deploy.md promises {sorted(missing)} for {name}, cloudbuild.yaml lacks them"


def test_the_docs_and_build_agree_that_no_secret_is_mounted():
    assert not [a for s in DEPLOYS.values() for a in s["args"] if a.startswith("--set-secrets")]
    assert "No `--set-secrets`, on purpose" in (ROOT / "docs" / "deploy.md").read_text()
