"""``python scripts/run_taskcat.py``: the taskcat regional deploy tests (CONTRACT §5).

Builds ``build/`` (``--build-dir``) if it is missing or stale, runs the tests of ``.taskcat.yml``
with taskcat (from its own environment, ``.venvs/taskcat/``, made by ``scripts/setup_tools.py``)
on a copy of the build in a temporary project folder, so taskcat writes nothing into the
repository, deletes every test stack
and then every prerequisite stack (per test in reverse creation order), purges the data the
stacks retain on delete (table, buckets, keys of the run's random suffixes, in every region of
the build), checks that nothing of those suffixes is left, and prints one line per test and
region and per prerequisite. taskcat stages ``build/`` — templates and handler zip — in its
bucket of each test region (and artifact region), where the primary test's
``ArtifactBucketName``, the standby test's ``ArtifactBucketPrefix`` and their ``HandlerCodeKey``
point. Default target: the local emulator, started on a free 127.0.0.1 port
for the run and stopped afterwards; ``--endpoint-url`` uses a running one; ``--aws`` uses the
account of the configured credentials.

Exit 0 only when every test stack reached CREATE_COMPLETE and was deleted afterwards (and so was
every prerequisite stack, and the retained data was purged, with nothing left); 1 when a stack
failed or was left behind, data could not be purged or was left, or the emulator or taskcat
could not start; 2 on bad arguments, a configuration that does not match the build, or
``--aws`` without credentials.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from payment_ops import paths, taskcat_support, toolvenv
from payment_ops.deployment import arguments, names
from payment_ops.emulator.process import Emulator, EmulatorStartError
from templates_src.cli import OneLineParser

ROOT = paths.project_dir()

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
CONFIG = ROOT / ".taskcat.yml"
OUTPUTS = ROOT / "taskcat_outputs"
BUILD = ROOT / "build"
TASKCAT = toolvenv.TASKCAT
RUNNER = Path(taskcat_support.__file__).parent / "runner.py"
HOOK = "payment_replica_prerequisites"
PRIMARY_TEMPLATE = "build/primary.template.json"
REPLICA_TEMPLATE = "build/replica.template.json"
STANDBY_TEMPLATE = "build/standby.template.json"
# The emulator answers at once: a run this long is stuck, not slow. AWS gets no limit here
# (CloudFormation's own timeouts apply).
OFFLINE_TIMEOUT = 900
TEST_KEY_PENDING_DAYS = 7  # the shortest KMS allows: test keys protect nothing
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class UsageError(Exception):
    """Exit 2 with this one-line reason."""


class RunError(Exception):
    """Exit 1 with this message."""


def parser(prog: str = "payment-taskcat") -> argparse.ArgumentParser:
    p = OneLineParser(prog=prog, description=__doc__.split("\n")[0])
    target = p.add_mutually_exclusive_group()
    target.add_argument(
        "--endpoint-url",
        type=arguments.endpoint_url,
        help="use the emulator already running at this URL",
    )
    target.add_argument(
        "--aws", action="store_true", help="the real account of the configured credentials"
    )
    p.add_argument(
        "--config", type=Path, default=CONFIG, help="taskcat configuration (default .taskcat.yml)"
    )
    p.add_argument(
        "--output-dir",
        type=Path,
        default=OUTPUTS,
        help="taskcat's outputs (default taskcat_outputs/)",
    )
    p.add_argument(
        "--build-dir",
        type=Path,
        default=BUILD,
        help="the build the tests deploy, reused when up to date (default build/)",
    )
    p.add_argument(
        "--emulator-port",
        type=int,
        default=0,
        help="port for the emulator started for the run (default: a free one)",
    )
    return p


# --- the configuration and the build it needs -----------------------------------------------


def _hook_steps(config_path: Path, name: str, test: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps of the test's prerequisite hooks, in order (as the hook reads them)."""
    steps = []
    for hook in test.get("prehooks") or []:
        if hook.get("type") != HOOK:
            continue
        raw = (hook.get("config") or {}).get("steps")
        if not isinstance(raw, list) or not raw:
            raise UsageError(
                f"{config_path}: test {name}: the {HOOK} hook needs config.steps, a list of "
                "{template, regions[, code]}"
            )
        for number, step in enumerate(raw, 1):
            step = step if isinstance(step, dict) else {}
            regions = step.get("regions")
            if not step.get("template") or not isinstance(regions, list) or not regions:
                raise UsageError(
                    f"{config_path}: test {name}: {HOOK} step {number} needs a template and regions"
                )
            steps.append({"template": step["template"], "regions": [str(r) for r in regions]})
    return steps


def _read_tests(config_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The configuration's ``project`` and ``tests``; UsageError when there are no tests."""
    import yaml

    try:
        document = yaml.safe_load(config_path.read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise UsageError(f"cannot read {config_path}: {error}") from error
    project = document.get("project") or {}
    tests = document.get("tests") or {}
    if not tests:
        raise UsageError(f"{config_path}: no tests")
    return project, tests


@dataclass
class _Placement:
    """Which tests run which template, and the regions each template is asked for."""

    primary_tests: list[str] = field(default_factory=list)
    standby_tests: list[str] = field(default_factory=list)
    primary_regions: list[str] = field(default_factory=list)
    replica_regions: list[str] = field(default_factory=list)
    standby_regions: list[str] = field(default_factory=list)
    step_replica_regions: list[list[str]] = field(default_factory=list)  # one per replica step


def _place(
    config_path: Path, name: str, test: dict[str, Any], project: dict[str, Any], placed: _Placement
) -> None:
    """Add one test, and the steps of its prerequisite hook, to ``placed``."""
    regions = list(test.get("regions") or project.get("regions") or [])
    if not regions:
        raise UsageError(f"{config_path}: test {name} has no regions")
    template = test.get("template") or project.get("template")
    if template == PRIMARY_TEMPLATE:
        placed.primary_tests.append(name)
        placed.primary_regions += regions
    elif template == REPLICA_TEMPLATE:
        placed.replica_regions += [r for r in regions if r not in placed.replica_regions]
    elif template == STANDBY_TEMPLATE:
        placed.standby_tests.append(name)
        placed.standby_regions += [r for r in regions if r not in placed.standby_regions]
    for step in _hook_steps(config_path, name, test):
        if step["template"] == PRIMARY_TEMPLATE:
            placed.primary_regions += step["regions"]
        elif step["template"] == REPLICA_TEMPLATE:
            placed.step_replica_regions.append(step["regions"])


def _check_placement(config_path: Path, placed: _Placement) -> None:
    """UsageError unless the regions fit one build: one primary region, one set of replicas."""
    if len(set(placed.primary_regions)) > 1:
        raise UsageError(
            f"{config_path}: the primary template is built for one primary region, not "
            f"{', '.join(sorted(set(placed.primary_regions)))}"
        )
    for regions in placed.step_replica_regions:
        if sorted(regions) != sorted(placed.replica_regions):
            raise UsageError(
                f"{config_path}: the {HOOK} hook's replica regions {regions} differ from the "
                f"replica test's regions {placed.replica_regions}"
            )
    outside = [r for r in placed.standby_regions if r not in placed.replica_regions]
    if outside:
        raise UsageError(
            f"{config_path}: the standby template runs in replica regions "
            f"{placed.replica_regions}, not in {', '.join(outside)}"
        )


def load_plan(config_path: Path) -> dict[str, Any]:
    """The tests of the taskcat configuration, checked against what the build can give them.

    The build has one primary region (the primary test's, and the region of every primary step
    of a prerequisite hook) and replica regions (the replica test's, else those of the hooks'
    replica steps); every replica step and every standby test must be in those.
    """
    project, tests = _read_tests(config_path)
    placed = _Placement()
    for name, test in tests.items():
        _place(config_path, name, test, project, placed)
    if not placed.replica_regions and placed.step_replica_regions:
        # no replica test: the hooks name them
        placed.replica_regions = list(placed.step_replica_regions[0])
    _check_placement(config_path, placed)
    return {
        "tests": {
            name: list(t.get("regions") or project.get("regions")) for name, t in tests.items()
        },
        "primary_tests": placed.primary_tests,
        "standby_tests": placed.standby_tests,
        "primary_region": placed.primary_regions[0] if placed.primary_regions else None,
        "replica_regions": placed.replica_regions,
    }


def ensure_build(plan: dict[str, Any], folder: Path, out: TextIO) -> None:
    """Reuse an up-to-date build in ``folder`` for the configuration's regions, else build it."""
    from payment_ops.deployment.artifacts import stale_reason
    from templates_src import build as build_module
    from templates_src import config as config_module

    try:
        config = config_module.from_inputs(
            primary_region=plan["primary_region"],
            replica_regions=plan["replica_regions"] or None,
            environ=os.environ,
        )
    except config_module.ConfigError as error:
        raise UsageError(f"the taskcat configuration cannot be built: {error}") from error
    reason = stale_reason(config, folder)
    if reason is None:
        print(f"using {_shown(folder)} (up to date)", file=out)
        return
    print(f"building {_shown(folder)} ({reason})", file=out, flush=True)
    result = build_module.build(config, folder)
    if not result.clean:
        for finding in result.findings:
            print(finding, file=out)
        raise RunError(f"build: {len(result.findings)} lint finding(s); no stack created")


def _shown(folder: Path) -> str:
    """``build/`` for the repository's build folder, else the folder as given."""
    return "build/" if folder.resolve() == BUILD else str(folder)


@contextlib.contextmanager
def project_copy(build_dir: Path) -> Iterator[Path]:
    """A temporary project folder for taskcat holding a copy of the build as ``build/``.

    taskcat writes into its project root (``.taskcat/`` for nested templates) and the current
    folder (a converted ``.taskcat.yml``); staging copies ``build/`` only (``runner._stage_only``).
    A copy, not a link: taskcat's S3 sync does not follow links."""
    with tempfile.TemporaryDirectory(prefix="taskcat-project-") as folder:
        root = Path(folder)
        shutil.copytree(build_dir, root / "build")
        yield root


# --- where taskcat talks to ----------------------------------------------------------------


def has_credentials() -> bool:
    import boto3

    try:
        return boto3.session.Session().get_credentials() is not None
    except Exception:  # noqa: BLE001 - a broken profile is no usable credentials either
        return False


def child_environment(endpoint_url: str | None, region: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in list(env):
        if name.startswith("AWS_ENDPOINT_URL"):
            del env[name]
    if endpoint_url:
        # The emulator accepts any credentials; never hand it (or leak towards AWS) real ones.
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            env.pop(name, None)
        env.update(DUMMY_CREDENTIALS)
        env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        env["AWS_ENDPOINT_URL"] = endpoint_url
        env["AWS_DEFAULT_REGION"] = region
    env.setdefault("AWS_DEFAULT_REGION", region)
    env["PYTHONUNBUFFERED"] = "1"
    return env


# --- the data the stacks retain -------------------------------------------------------------


def suffix_regions(result: dict[str, Any], plan: dict[str, Any]) -> dict[str, list[str]]:
    """Every suffix the run deployed (test stacks and prerequisites), with the regions to purge.

    Every region of the build, not just the stack's: a suffix reaches beyond its test's region
    through the prerequisites (a standby test's table, buckets and keys are in the primary region
    as well as its own) and through the global table's replicas.
    """
    build_regions = [r for r in [plan["primary_region"], *plan["replica_regions"]] if r]
    regions_of: dict[str, list[str]] = {}

    def add(suffix: str, regions: list[str]) -> None:
        known = regions_of.setdefault(suffix, [])
        for region in [*regions, *build_regions]:
            if region not in known:
                known.append(region)

    for stack in result.get("stacks", []):
        if stack["suffix"] and stack["stack_id"]:
            add(stack["suffix"], [stack["region"]])
    for item in result.get("prerequisites", []):  # also when the test stack never started
        if item["stack_id"]:
            add(item["suffix"], [item["for_region"], item["region"]])
    return dict(sorted(regions_of.items()))


def _account(aws: Any, plan: dict[str, Any]) -> str:
    sts = aws.client("sts", plan["primary_region"] or "us-east-1")
    return sts.get_caller_identity()["Account"]


def purge_retained(
    result: dict[str, Any], plan: dict[str, Any], endpoint_url: str | None, out: TextIO
) -> list[str]:
    """Remove what the test stacks retained on delete; the problems, if any.

    The templates keep the table, audit buckets and KMS keys when a stack is deleted (payments
    must survive a mistaken delete). A test environment's suffix is random and used once, so its
    data is purged here, as ``delete.py --purge-data`` would: otherwise every run on an account
    would leave a deletion-protected global table, buckets and six keys behind.
    """
    from payment_ops.deployment import retained
    from payment_ops.deployment.aws import Aws

    regions_of = suffix_regions(result, plan)
    if not regions_of:
        return []
    problems = []
    aws = Aws(endpoint_url)
    try:
        account = _account(aws, plan)
    except Exception as error:  # noqa: BLE001
        return [f"retained data not purged: cannot tell the account: {error}"]
    for suffix, regions in regions_of.items():
        # The global table's home: the primary template's region, whichever stack made it.
        home = plan["primary_region"] or regions[0]
        try:
            found = [retained.find(aws, suffix, account, region) for region in regions]
            if all(data.empty() for data in found):
                continue
            print(f"purging the data retained by suffix {suffix}:", file=out, flush=True)
            retained.purge(aws, suffix, found, home, TEST_KEY_PENDING_DAYS, out)
        except Exception as error:  # noqa: BLE001 - named, and the run fails
            problems.append(f"retained data of suffix {suffix} not purged: {error}")
    return problems


def check_nothing_left(
    result: dict[str, Any], plan: dict[str, Any], endpoint_url: str | None, out: TextIO
) -> list[str]:
    """After the purge: no live stack, table, bucket, KMS alias or usable KMS key of any of the
    run's suffixes in any region of the build (KMS keys may only be pending deletion); what is
    left, if anything."""
    from payment_ops.deployment import retained
    from payment_ops.deployment.aws import Aws

    regions_of = suffix_regions(result, plan)
    if not regions_of:
        return []
    regions = sorted({region for known in regions_of.values() for region in known})
    aws = Aws(endpoint_url)
    problems = []
    try:
        account = _account(aws, plan)
        for region in regions:
            pages = aws.client("cloudformation", region).get_paginator("describe_stacks")
            for stack in (s for page in pages.paginate() for s in page["Stacks"]):
                values = {p.get("ParameterValue") for p in stack.get("Parameters", [])}
                suffixes = sorted(values & set(regions_of))
                if suffixes and stack["StackStatus"] != "DELETE_COMPLETE":
                    problems.append(
                        f"stack {stack['StackName']} (suffix {suffixes[0]}) is left in "
                        f"{region}: {stack['StackStatus']}"
                    )
        for suffix, known in regions_of.items():
            for region in known:
                data = retained.find(aws, suffix, account, region)
                if not data.empty():
                    problems.append(f"suffix {suffix} left {data.describe()}")
    except Exception as error:  # noqa: BLE001 - an unchecked run is not a clean one
        problems.append(f"cannot check what the run left: {error}")
    if not problems:
        print(
            f"nothing left of suffixes {', '.join(regions_of)} in {', '.join(regions)} "
            "(stacks, tables, buckets, KMS aliases; their KMS keys are pending deletion)",
            file=out,
        )
    return problems


# --- verdict ------------------------------------------------------------------------------


def _template_name(item: dict[str, Any]) -> str:
    """``primary`` for build/primary.template.json."""
    return Path(item["template"]).name.split(".")[0]


def verdict(result: dict[str, Any]) -> list[str]:
    """One line per problem; empty when every stack was created and deleted."""
    problems = list(result.get("errors", []))
    for stack in result.get("stacks", []):
        where = f"{stack['test']} {stack['region']}"
        if stack["created_status"] != "CREATE_COMPLETE":
            reason = stack["created_reason"] or "no reason given"
            problems.append(f"{where}: {stack['created_status']}: {reason}")
        if stack["final_status"] not in ("DELETE_COMPLETE",) and stack["stack_id"]:
            problems.append(
                f"{where}: not deleted ({stack['final_status']}: {stack['final_reason']}) - "
                f"{stack['stack_name']} is left in {stack['region']}"
            )
    for item in result.get("prerequisites", []):
        where = (
            f"{item['test']} prerequisite {item['step']} ({_template_name(item)}) "
            f"in {item['region']}"
        )
        if item["created_status"] != "CREATE_COMPLETE":
            problems.append(f"{where}: {item['created_status']}: {item['created_reason']}")
        if item["stack_id"] and item["final_status"] != "DELETE_COMPLETE":
            problems.append(
                f"{where}: not deleted ({item['final_status']}: {item['final_reason']}) - "
                f"{item['stack_name']} is left in {item['region']}"
            )
    return problems


def table(result: dict[str, Any]) -> str:
    rows = [("test", "region", "suffix", "created", "deleted", "stack")]
    for stack in result.get("stacks", []):
        rows.append(
            (
                stack["test"],
                stack["region"],
                stack["suffix"] or "-",
                stack["created_status"],
                stack["final_status"],
                stack["stack_name"] or "-",
            )
        )
    for item in result.get("prerequisites", []):
        rows.append(
            (
                f"{item['test']} (prerequisite {item['step']}: {_template_name(item)})",
                item["region"],
                item["suffix"],
                item["created_status"],
                item["final_status"],
                item["stack_name"],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


# --- the run ------------------------------------------------------------------------------


# The account baseline as a plain stack (taskcat's tests run without the deploy tooling that
# applies it as a stack set); account-level, so it is kept for the next run and for deploys.
BASELINE_STACK = names.ACCOUNT_BASELINE_STACK


def ensure_account_baseline(
    plan: dict[str, Any], build_dir: Path, endpoint_url: str | None, out: TextIO
) -> None:
    """A stage that logs fails until its account and region name a CloudWatch Logs role
    (``AWS::ApiGateway::Account``, "Set up CloudWatch logging for REST APIs in API Gateway").
    That setting is one per account and region, so no test stack may own it: before taskcat
    starts, each region of the run whose account names no role gets the account baseline."""
    from payment_ops.deployment.aws import Aws
    from templates_src.build import ACCOUNT_BASELINE

    aws = Aws(endpoint_url)
    regions = sorted({r for rs in plan["tests"].values() for r in rs} | _primary_regions(plan))
    template = (build_dir / ACCOUNT_BASELINE).read_text()
    for region in regions:
        if aws.client("apigateway", region).get_account().get("cloudwatchRoleArn"):
            continue
        print(f"account baseline: stack {BASELINE_STACK} in {region}", file=out, flush=True)
        cfn = aws.client("cloudformation", region)
        cfn.create_stack(
            StackName=BASELINE_STACK,
            TemplateBody=template,
            Capabilities=["CAPABILITY_NAMED_IAM"],
            Tags=[{"Key": names.PROJECT_TAG[0], "Value": names.PROJECT_TAG[1]}],
        )
        try:
            cfn.get_waiter("stack_create_complete").wait(
                StackName=BASELINE_STACK,
                WaiterConfig={"Delay": 1 if endpoint_url else 15, "MaxAttempts": 120},
            )
        except Exception as error:  # noqa: BLE001 - the run cannot start: named, exit 1
            raise RunError(f"account baseline in {region} not created: {error}") from error


def _primary_regions(plan: dict[str, Any]) -> set[str]:
    return {plan["primary_region"]} if plan["primary_region"] else set()


def run_taskcat(
    python: Path,
    config: Path,
    project_root: Path,
    output_dir: Path,
    environment: Mapping[str, str],
    offline: bool,
) -> dict[str, Any]:
    results_file = output_dir / "results.json"
    results_file.unlink(missing_ok=True)
    command = [
        str(python),
        str(RUNNER),
        "--project-root",
        str(project_root),
        "--config",
        str(config),
        "--results",
        str(results_file),
        "--output-dir",
        str(output_dir),
        "--stage",
        "build",
    ]
    if offline:
        command += ["--offline", "--poll", "1"]
    else:
        command += ["--report"]
    try:
        proc = subprocess.run(
            command,
            cwd=project_root,
            env=dict(environment),
            timeout=OFFLINE_TIMEOUT if offline else None,
        )
    except subprocess.TimeoutExpired as error:
        raise RunError(f"taskcat did not finish within {OFFLINE_TIMEOUT} s") from error
    try:
        return json.loads(results_file.read_text())
    except (OSError, ValueError) as error:
        raise RunError(f"taskcat runner exited with {proc.returncode} and no results") from error


@contextlib.contextmanager
def scoped_environ(environment: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` is ``environment`` inside the block and exactly as before after it.

    The baseline, the purge and the check talk to taskcat's target in this process; boto3 and
    the deploy code read the endpoint, credentials and region from the environment.
    """
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environment)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _require_credentials(args: argparse.Namespace) -> None:
    if args.aws and not has_credentials():
        raise UsageError(
            "--aws: no AWS credentials are configured (set AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws configure`)"
        )


def _fresh_output_dir(folder: Path) -> Path:
    """``folder``, resolved and made, without a previous run's logs and report."""
    output_dir = folder.resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    for stale in [*output_dir.glob("tCaT-*-cfnlogs.txt"), output_dir / "index.html"]:
        stale.unlink(missing_ok=True)  # a previous run's logs must not pass for this one's
    return output_dir


def _run_and_purge(
    plan: dict[str, Any],
    python: Path,
    config: Path,
    build_dir: Path,
    output_dir: Path,
    endpoint_url: str | None,
    region: str,
    out: TextIO,
) -> tuple[dict[str, Any], list[str]]:
    """The account baseline, taskcat's run on a copy of the build, then the purge of the data
    the stacks retain and the check that nothing is left: (taskcat's result, the problems)."""
    # The baseline and the purge talk to the same target as taskcat, with its credentials.
    environment = child_environment(endpoint_url, region)
    with scoped_environ(environment):
        ensure_account_baseline(plan, build_dir, endpoint_url, out)
    with project_copy(build_dir) as project_root:
        result = run_taskcat(
            python,
            config,
            project_root,
            output_dir,
            environment,
            offline=endpoint_url is not None,
        )
    with scoped_environ(environment):
        purge_problems = purge_retained(result, plan, endpoint_url, out)
        purge_problems += check_nothing_left(result, plan, endpoint_url, out)
    return result, purge_problems


def _report(
    result: dict[str, Any], purge_problems: list[str], output_dir: Path, out: TextIO
) -> int:
    """Print the table, the notes and the verdict; the exit code."""
    print("", file=out)
    print(table(result), file=out)
    for note in result.get("notes", []):
        print(f"note: {note}", file=out)
    print(f"outputs: {output_dir} (results.json, stack logs)", file=out)
    problems = verdict(result) + purge_problems
    if problems:
        for problem in problems:
            print(f"FAILED {problem}", file=out)
        return EXIT_FAILED
    print("every test stack reached CREATE_COMPLETE and was deleted", file=out)
    return EXIT_OK


def main(
    argv: Sequence[str] | None = None, out: TextIO = sys.stdout, *, prog: str = "payment-taskcat"
) -> int:
    args = parser(prog).parse_args(argv)
    emulator: Emulator | None = None
    try:
        _require_credentials(args)
        plan = load_plan(args.config.resolve())
        python = toolvenv.require(TASKCAT)
        build_dir = args.build_dir.resolve()
        ensure_build(plan, build_dir, out)
        output_dir = _fresh_output_dir(args.output_dir)
        region = plan["primary_region"] or next(iter(plan["tests"].values()))[0]
        endpoint_url = None if args.aws else args.endpoint_url
        if not args.aws and not endpoint_url:
            emulator = Emulator(port=args.emulator_port, log=output_dir / "emulator.log")
            endpoint_url = emulator.start().url
            print(f"emulator: {endpoint_url} (pid {emulator.pid})", file=out, flush=True)
        target = "the AWS account of the configured credentials" if args.aws else endpoint_url
        print(f"taskcat: {args.config.name} against {target}", file=out, flush=True)
        result, purge_problems = _run_and_purge(
            plan, python, args.config.resolve(), build_dir, output_dir, endpoint_url, region, out
        )
    except UsageError as error:
        print(f"run_taskcat: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except EmulatorStartError as error:
        print(
            f"run_taskcat: error: {error.message}; its log ends:\n{error.log_tail}", file=sys.stderr
        )
        return EXIT_FAILED
    except (RunError, toolvenv.ToolVenvError) as error:
        print(f"run_taskcat: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(
            "run_taskcat: interrupted; test stacks may be left (taskcat test clean)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    finally:
        if emulator is not None:
            emulator.stop()
    return _report(result, purge_problems, output_dir, out)
