"""Stack set operations and AWS API calls of deploy.py, and the emulator's type coverage.

Three runs of the real deploy against the local emulator (moto on 127.0.0.1), counted with a
botocore ``before-call`` hook in deploy.py's own session:

1. first deploy (StackSet roles already in the account, as after a one-time ``--bootstrap``),
   with a custom domain, so the failover routing is deployed too;
2. the same deploy again with nothing changed (goal: 0 stack set operations);
3. a code-only change (a new handler zip, nothing else).

Coverage: resource types of the built templates that the emulator really creates (a stack
resource with a physical id), over all types the templates declare.

Run: ``.venv/bin/python benchmarks/deploy_figures.py [--json PATH]``; prints a table.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from payment_ops.commands import deploy as deploy_command
from payment_ops.deployment import deploy
from payment_ops.emulator import Emulator
from templates_src import build as build_module
from templates_src import package

ROOT = Path(__file__).resolve().parent.parent

SUFFIX = "bench"
EMAIL = "alarms@example.com"
ZONE = "example.com"


def _run(argv: list[str]) -> tuple[deploy.Deployed, float]:
    started = time.perf_counter()
    request = deploy_command.request_from(deploy_command.parser().parse_args(argv))
    deployed = deploy.run(request, io.StringIO())
    return deployed, time.perf_counter() - started


def _hosted_zone(url: str) -> str:
    import boto3

    route53 = boto3.client("route53", region_name="us-east-1", endpoint_url=url)
    zone = route53.create_hosted_zone(Name=ZONE, CallerReference="deploy-figures")
    return zone["HostedZone"]["Id"].rsplit("/", 1)[-1]


def _coverage(url: str, build: Path) -> tuple[set[str], set[str]]:
    """The resource types the templates declare, and those of them the emulator created."""
    import boto3

    manifest = json.loads((build / build_module.MANIFEST).read_text())
    declared = {t for entry in manifest["templates"].values() for t in entry["resources_by_type"]}
    created: set[str] = set()
    for region in ("us-east-1", "us-west-2"):
        cfn = boto3.client("cloudformation", region_name=region, endpoint_url=url)
        for stack in cfn.describe_stacks()["Stacks"]:
            for resource in cfn.list_stack_resources(StackName=stack["StackId"])[
                "StackResourceSummaries"
            ]:
                if resource.get("PhysicalResourceId"):
                    created.add(resource["ResourceType"])
    return declared, declared & created


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)

    with tempfile.TemporaryDirectory() as tmp, Emulator() as emulator:
        work = Path(tmp)
        argv = _prepare(emulator.url, work)
        rows = _deploys(argv, work)
        declared_types, created_types = _coverage(emulator.url, work / "build")
    covered, declared = len(created_types), len(declared_types)

    figures = {
        label: {
            "stack_set_operations": run.aws.operations,
            "api_calls": run.aws.api_calls,
            "seconds": round(seconds, 2),
            "calls": dict(sorted(run.aws.calls.items())),
        }
        for label, run, seconds in rows
    }
    figures["emulator_type_coverage"] = {
        "created": covered,
        "declared": declared,
        "percent": round(100 * covered / declared, 1),
        # Declared but not created in this deploy (a resource whose condition is off, say).
        "not_created": sorted(declared_types - created_types),
    }
    print(f"{'run':<18} {'operations':>10} {'API calls':>10} {'seconds':>8}")
    for label, run, seconds in rows:
        print(f"{label:<18} {run.aws.operations:>10} {run.aws.api_calls:>10} {seconds:>8.2f}")
    print(f"emulator type coverage: {covered}/{declared} ({100 * covered / declared:.0f} %)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def _prepare(url: str, work: Path) -> list[str]:
    """The one-time bootstrap and the hosted zone; returns the arguments of the counted deploys
    (without ``--build-dir``)."""
    common = ["--endpoint-url", url, "--poll", "0.05", "--alarm-email", EMAIL]
    # The one-time bootstrap, under another suffix, so that it is not counted below.
    _run([*common, "--environment-suffix", "warmup", "--build-dir", str(work / "warm"),
          "--outputs", str(work / "warm.json"), "--bootstrap"])  # fmt: skip
    zone = _hosted_zone(url)
    return [
        *common,
        "--environment-suffix", SUFFIX,
        "--outputs", str(work / "out.json"),
        "--domain-name", f"pay.{ZONE}",
        "--hosted-zone-id", zone,
    ]  # fmt: skip


def _deploys(argv: list[str], work: Path) -> list[tuple[str, deploy.Deployed, float]]:
    """The three counted runs: label, what deploy returned, seconds."""
    rows = []
    first, seconds = _run([*argv, "--build-dir", str(work / "build")])
    rows.append(("first deploy", first, seconds))
    again, seconds = _run([*argv, "--build-dir", str(work / "build")])
    rows.append(("no-op redeploy", again, seconds))
    changed, seconds = _code_only_change(argv, work)
    rows.append(("code-only change", changed, seconds))
    return rows


def _code_only_change(argv: list[str], work: Path) -> tuple[deploy.Deployed, float]:
    """A deploy whose handler zip is built from a copy of handler/ with one comment added."""
    handler = work / "handler-v2"
    shutil.copytree(ROOT / "handler", handler, ignore=shutil.ignore_patterns("__pycache__"))
    with (handler / "__init__.py").open("a") as init:
        init.write("\n# v2\n")
    original = package.build_zip
    package.build_zip = lambda source=handler: original(handler)
    try:
        return _run([*argv, "--build-dir", str(work / "build-v2")])
    finally:
        package.build_zip = original


if __name__ == "__main__":
    main()
