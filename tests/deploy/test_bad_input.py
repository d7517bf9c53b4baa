"""Every bad input to deploy, delete and the failover drill is one line on stderr and exit 2
(130 for Ctrl-C at the purge prompt), with no traceback and nothing changed in the emulator.

The commands run as a user runs them, through ``main(argv)``; what the emulator holds is
compared before and after."""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from payment_ops.commands import delete as delete_script
from payment_ops.commands import deploy as deploy_script
from payment_ops.commands import failover_drill, run_taskcat
from templates_src import names

from .conftest import ACCOUNT, PRIMARY, Result

pytestmark = pytest.mark.integration

SUFFIX = "badin"
TABLE = names.table(SUFFIX)
AUDIT = names.audit_bucket(SUFFIX, ACCOUNT, PRIMARY)


def _run(main: Callable[..., int], argv: list[str], **kwargs: Any) -> Result:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = main(argv, out=out, **kwargs)
        except SystemExit as exit_:  # argparse refuses before main's own handling
            code = int(exit_.code or 0)
    return Result(code, out.getvalue(), err.getvalue())


def _held(aws) -> dict[str, Any]:
    """What a refused run must leave as it was."""
    return {
        "stack sets": aws("cloudformation").list_stack_sets()["Summaries"],
        "stacks": aws("cloudformation").describe_stacks()["Stacks"],
        "buckets": sorted(b["Name"] for b in aws("s3").list_buckets()["Buckets"]),
        "tables": aws("dynamodb").list_tables()["TableNames"],
        "roles": sorted(r["RoleName"] for r in aws("iam").list_roles()["Roles"]),
    }


def _unwritable(path: Path) -> bool:
    try:
        with tempfile.NamedTemporaryFile(dir=path):
            return False
    except OSError:
        return True


@pytest.fixture(scope="module")
def read_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder no file can be created in: a mode 555 folder, or for root (whom modes do not
    stop) sysfs, which refuses new files to everyone."""
    folder = tmp_path_factory.mktemp("read-only")
    folder.chmod(0o555)
    if _unwritable(folder):
        return folder
    if Path("/sys").is_dir() and _unwritable(Path("/sys")):
        return Path("/sys")
    pytest.skip("no read-only folder available to this user")


@pytest.fixture(scope="module")
def common(emulator, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    work = tmp_path_factory.mktemp("bad-input")
    return [
        "--environment-suffix", SUFFIX,
        "--endpoint-url", emulator.url,
        "--outputs", str(work / "flat-outputs.json"),
        "--build-dir", str(work / "build"),
        "--no-alarm-subscriber",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def retained_data(aws) -> None:
    """Data a purge would remove, left by an earlier plain delete."""
    aws("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "payment_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "payment_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    aws("s3").create_bucket(Bucket=AUDIT)
    aws("s3").put_bucket_tagging(
        Bucket=AUDIT, Tagging={"TagSet": [{"Key": "EnvironmentSuffix", "Value": SUFFIX}]}
    )


def _assert_refused(result: Result, code: int, reason: str) -> None:
    assert result.code == code, (result.out, result.err)
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert reason in result.err, result.err


BAD_TIMES = [
    ("--poll", "-1"),
    ("--poll", "nan"),
    ("--poll", "0"),
    ("--timeout", "nan"),
    ("--timeout", "inf"),
    ("--timeout", "0"),
    ("--timeout", "-5"),
    ("--timeout", "soon"),
]


@pytest.mark.parametrize(("flag", "value"), BAD_TIMES)
@pytest.mark.parametrize("main", [deploy_script.main, delete_script.main], ids=["deploy", "delete"])
def test_a_bad_poll_or_timeout_is_refused(aws, common, retained_data, main, flag, value):
    before = _held(aws)
    result = _run(main, [*common[:4], flag, value])
    _assert_refused(result, 2, f"argument {flag}:")
    assert _held(aws) == before


@pytest.mark.parametrize(("flag", "value"), [("--timeout", "nan"), ("--interval", "-1")])
def test_the_drill_refuses_a_bad_timeout_or_interval(aws, emulator, flag, value):
    before = _held(aws)
    result = _run(failover_drill.main, ["--endpoint-url", emulator.url, flag, value])
    _assert_refused(result, 2, f"argument {flag}:")
    assert _held(aws) == before


@pytest.mark.parametrize("main", [deploy_script.main, delete_script.main], ids=["deploy", "delete"])
@pytest.mark.parametrize("url", ["notaurl", "ftp://127.0.0.1:5000", "http://127.0.0.1:port"])
def test_an_endpoint_that_is_not_a_url_is_refused(aws, main, url):
    before = _held(aws)
    result = _run(main, ["--environment-suffix", SUFFIX, "--endpoint-url", url])
    _assert_refused(result, 2, "argument --endpoint-url:")
    assert _held(aws) == before


def test_run_taskcat_refuses_an_endpoint_that_is_not_a_url(aws):
    before = _held(aws)
    result = _run(run_taskcat.main, ["--endpoint-url", "notaurl"])
    _assert_refused(result, 2, "argument --endpoint-url:")
    assert _held(aws) == before


def test_an_aws_endpoint_url_variable_that_is_not_a_url_is_refused(aws, common, monkeypatch):
    before = _held(aws)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "notaurl")
    result = _run(deploy_script.main, ["--environment-suffix", SUFFIX, *common[4:]])
    _assert_refused(result, 2, "AWS_ENDPOINT_URL: 'notaurl' is not")
    assert _held(aws) == before


def test_a_read_only_build_folder_is_refused_before_building(aws, common, read_only):
    before = _held(aws)
    build = read_only / "payment-build"
    result = _run(deploy_script.main, [*common, "--build-dir", str(build), "--bootstrap"])
    _assert_refused(result, 2, f"--build-dir {build}: cannot write in {read_only}")
    assert not build.exists()
    assert _held(aws) == before


@pytest.mark.parametrize("where", ["read-only folder", "folder", "below a file"])
def test_an_outputs_file_that_cannot_be_written_is_refused_before_any_change(
    aws, common, read_only, tmp_path, where
):
    outputs = {
        "read-only folder": read_only / "flat-outputs.json",
        "folder": tmp_path,
        "below a file": tmp_path / "file" / "flat-outputs.json",
    }[where]
    (tmp_path / "file").write_text("")
    before = _held(aws)
    result = _run(deploy_script.main, [*common, "--outputs", str(outputs), "--bootstrap"])
    _assert_refused(result, 2, f"--outputs {outputs}")
    assert _held(aws) == before


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _CtrlC(_Terminal):
    def readline(self, *args: Any) -> str:
        raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("stdin", "code", "reason"),
    [
        (_CtrlC(), 130, "interrupted at the confirmation; nothing deleted"),
        (_Terminal(""), 2, "not confirmed; nothing deleted"),  # end of input (Ctrl-D)
    ],
    ids=["ctrl-c", "eof"],
)
def test_ctrl_c_or_end_of_input_at_the_purge_prompt_removes_nothing(
    aws, emulator, retained_data, stdin, code, reason
):
    before = _held(aws)
    result = _run(
        delete_script.main,
        ["--environment-suffix", SUFFIX, "--endpoint-url", emulator.url, "--purge-data"],
        stdin=stdin,
    )
    _assert_refused(result, code, reason)
    assert _held(aws) == before
    assert aws("dynamodb").describe_table(TableName=TABLE)["Table"]["TableName"] == TABLE
    aws("s3").head_bucket(Bucket=AUDIT)


# --- alarms must reach someone (issue 15) ----------------------------------------------------


@pytest.fixture
def no_subscriber(emulator, tmp_path: Path) -> list[str]:
    """A new environment's deploy arguments, with neither --alarm-email nor the opt-out."""
    return [
        "--environment-suffix", "noalarm",
        "--endpoint-url", emulator.url,
        "--outputs", str(tmp_path / "flat-outputs.json"),
        "--build-dir", str(tmp_path / "build"),
        "--poll", "0.05",
    ]  # fmt: skip


def test_a_deploy_without_an_alarm_subscriber_is_refused_before_anything_is_made(
    aws, no_subscriber, tmp_path
):
    before = _held(aws)
    result = _run(deploy_script.main, [*no_subscriber, "--bootstrap"])
    _assert_refused(result, 2, "no alarm subscriber: give --alarm-email ADDRESS")
    assert "--no-alarm-subscriber" in result.err
    assert _held(aws) == before
    assert not (tmp_path / "build").exists()  # refused before the build, too


def test_the_plan_says_a_deploy_without_an_alarm_subscriber_would_be_refused(aws, no_subscriber):
    before = _held(aws)
    result = _run(deploy_script.main, [*no_subscriber, "--plan"])
    assert result.code == 0, result.err
    assert "note: deploy refuses this: no alarm subscriber" in result.out
    assert _held(aws) == before


def test_the_plan_says_the_opt_out_is_in_force(aws, no_subscriber):
    result = _run(deploy_script.main, [*no_subscriber, "--no-alarm-subscriber", "--plan"])
    assert result.code == 0, result.err
    assert "note: --no-alarm-subscriber: the alarms notify a topic nobody is subscribed" in (
        result.out
    )
    assert "deploy refuses this: no alarm subscriber" not in result.out


def test_the_plan_names_the_alarm_address(aws, no_subscriber):
    result = _run(
        deploy_script.main, [*no_subscriber, "--alarm-email", "oncall@example.com", "--plan"]
    )
    assert result.code == 0, result.err
    assert "alarms: e-mailed to oncall@example.com" in result.out


# -- mutual TLS needs its truststore ("Configuring mutual TLS authentication for a REST API") ---

DOMAIN = ["--domain-name", "pay.example.com", "--hosted-zone-id", "Z0123456789ABCDEFGHIJ"]


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        (
            ["--client-auth", "mtls", *DOMAIN],
            "needs --domain-name, --hosted-zone-id and --truststore-version",
        ),
        (["--client-auth", "mtls", "--truststore-version", "v1"], "needs a custom domain"),
        (["--truststore-version", "v1", *DOMAIN], "goes with --client-auth mtls only"),
        (["--client-auth", "mtls", *DOMAIN, "--truststore-version", "v 1"], "not an S3 version id"),
    ],
    ids=["no-version", "no-domain", "version-without-mtls", "bad-version"],
)
def test_mutual_tls_without_what_it_needs_is_refused(aws, common, tmp_path, flags, reason):
    before = _held(aws)
    result = _run(deploy_script.main, [*common, *flags])
    _assert_refused(result, 2, reason)
    assert _held(aws) == before


def test_a_truststore_version_that_is_not_in_the_artifact_bucket_is_refused(aws, common):
    """API Gateway would fail the custom domain on a version it cannot read; deploy refuses
    before any change, naming the object it looked for."""
    before = _held(aws)
    # A suffix of its own: another test of this module leaves retained data under SUFFIX.
    own = ["mtls" if arg == SUFFIX else arg for arg in common]
    flags = ["--client-auth", "mtls", *DOMAIN, "--truststore-version", "no-such-version"]
    result = _run(deploy_script.main, [*own, *flags, "--bootstrap"])
    _assert_refused(result, 2, "truststore/clients.pem has no such version")
    assert _held(aws) == before
