"""The local emulator for the deploy tests: one moto server per test module, on 127.0.0.1.

Deploy and delete run for real against it: boto3 over HTTP, the emulator's StackSets creating
stacks in each region. Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from payment_ops.commands import delete as delete_script
from payment_ops.commands import deploy as deploy_script
from payment_ops.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"  # moto's default account
PRIMARY = "us-east-1"
REPLICA = "us-west-2"

# Credentials and config for the emulator only: no profile, file or token from the machine.
EMULATOR_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": PRIMARY,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
UNSET = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "ENVIRONMENT_SUFFIX",
)


@contextlib.contextmanager
def emulator_with(**extra_env: str) -> Iterator[Emulator]:
    """An emulator process of its own (so every module starts from an empty account), with
    only the emulator's credentials in the environment, plus ``extra_env``, which the
    emulator's own process reads (an emulated quota, say)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**EMULATOR_ENV, **extra_env}.items():
            patch.setenv(name, value)
        for name in UNSET:
            patch.delenv(name, raising=False)
        with Emulator() as running:
            yield running


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with emulator_with() as running:
        yield running


@dataclass
class Aws:
    """boto3 clients on the emulator, for checking what deploy and delete really did."""

    url: str

    def __call__(self, service: str, region: str = PRIMARY) -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@pytest.fixture(scope="module")
def aws(emulator: Emulator) -> Aws:
    return Aws(emulator.url)


@dataclass
class Result:
    code: int
    out: str
    err: str


def deploy_args(endpoint_url: str, suffix: str, work: Path, *extra: str) -> list[str]:
    """deploy.py's arguments for one test deployment: its own build folder and outputs file,
    a fast poll (the emulator finishes operations at once), and, unless the test gives an
    address, the explicit opt-out from an alarm subscriber (deploy refuses without either)."""
    opt_out = [] if "--alarm-email" in extra else ["--no-alarm-subscriber"]
    return [
        "--environment-suffix", suffix,
        "--endpoint-url", endpoint_url,
        "--build-dir", str(work / "build"),
        "--outputs", str(work / "flat-outputs.json"),
        "--poll", "0.05",
        *opt_out,
        *extra,
    ]  # fmt: skip


def _run_in_process(main: Callable[..., int], argv: list[str], **kwargs: Any) -> Result:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(argv, out=out, **kwargs)
    return Result(code, out.getvalue(), err.getvalue())


def run_deploy(argv: list[str]) -> Result:
    return _run_in_process(deploy_script.main, argv)


def run_delete(argv: list[str], stdin: Any = None) -> Result:
    return _run_in_process(delete_script.main, argv, stdin=stdin or io.StringIO(""))


def run_cli(script: str, argv: list[str], stdin: int | None = subprocess.DEVNULL) -> Result:
    """The script as users run it: a separate process, exit code and output as they see them."""
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(EMULATOR_ENV)
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), *argv],
        cwd=ROOT,
        env=env,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def operation_count(aws: Aws, stack_set: str) -> int:
    """Operations CloudFormation holds for a stack set (read from AWS, not from the tool)."""
    return len(aws("cloudformation").list_stack_set_operations(StackSetName=stack_set)["Summaries"])


def operation_outcome(cfn: Any, stack_set: str, operation_id: str) -> dict:
    """The operation once it has ended, polled as a caller must (it reports RUNNING first)."""
    for _ in range(10):
        operation = cfn.describe_stack_set_operation(
            StackSetName=stack_set, OperationId=operation_id
        )["StackSetOperation"]
        if operation["Status"] not in ("RUNNING", "QUEUED", "STOPPING"):
            return operation
    raise AssertionError(f"{stack_set}: operation {operation_id} still {operation['Status']}")
