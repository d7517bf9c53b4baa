"""``scripts/run_taskcat.py`` end to end against the local emulator, and its bad-input paths.

The run starts its own emulator and stops it afterwards, so the assertions read what the run
recorded (``taskcat_outputs/results.json``, the printed table) and check that nothing is left
running. The first test of the module creates ``.venvs/taskcat`` if it is missing.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "run_taskcat.py"
SUFFIX = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
PRIMARY, REPLICA = "us-east-1", "us-west-2"

pytestmark = pytest.mark.taskcat

# Nothing from the machine's AWS set-up may reach a test run.
AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


def _environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in AWS_VARIABLES}
    empty = tmp_path / "empty-aws-file"
    empty.write_text("")
    env.update(
        AWS_CONFIG_FILE=str(empty),
        AWS_SHARED_CREDENTIALS_FILE=str(empty),
        AWS_EC2_METADATA_DISABLED="true",  # no instance-metadata credentials either
    )
    return env


def _run(tmp_path: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=ROOT,
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _by_test_and_region(results: dict) -> dict[tuple[str, str], dict]:
    return {(stack["test"], stack["region"]): stack for stack in results["stacks"]}


def _emulator_pid(stdout: str) -> int:
    match = re.search(r"^emulator: http://127\.0\.0\.1:(\d+) \(pid (\d+)\)$", stdout, re.M)
    assert match, stdout
    return int(match.group(2))


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # still in the process table: only acceptable as a zombie nobody waits for (it is not)
    return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


@pytest.fixture(scope="module")
def offline_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess, dict]:
    """One full default run: build if needed, emulator, taskcat, clean-up."""
    tmp_path = tmp_path_factory.mktemp("taskcat")
    started = time.monotonic()
    proc = _run(tmp_path)
    print(f"run_taskcat.py took {time.monotonic() - started:.1f} s")
    results_file = ROOT / "taskcat_outputs" / "results.json"
    assert results_file.is_file(), proc.stdout + proc.stderr
    return proc, json.loads(results_file.read_text())


def test_offline_run_passes(offline_run):
    proc, _ = offline_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "every test stack reached CREATE_COMPLETE and was deleted" in proc.stdout


def test_every_test_stack_was_created_then_deleted_in_its_region(offline_run):
    _, results = offline_run
    stacks = _by_test_and_region(results)
    assert set(stacks) == {("replica", REPLICA), ("primary", PRIMARY)}
    for (test, region), stack in stacks.items():
        assert stack["created_status"] == "CREATE_COMPLETE", (test, region, stack)
        assert stack["final_status"] == "DELETE_COMPLETE", (test, region, stack)
        # The stack really lived in that region, under taskcat's name for the test.
        assert f":cloudformation:{region}:" in stack["stack_id"]
        assert stack["stack_name"].startswith(f"tCaT-payment-infrastructure-{test}-")
    assert results["errors"] == []


def test_each_test_has_its_own_random_suffix(offline_run):
    _, results = offline_run
    suffixes = [stack["suffix"] for stack in results["stacks"]]
    assert all(SUFFIX.match(suffix) for suffix in suffixes), suffixes
    assert len(set(suffixes)) == len(suffixes)
    assert "dev" not in suffixes  # not the template's default


def test_the_primary_test_brought_its_own_replica_region_keys(offline_run):
    """The primary test does not lean on the replica test: its prerequisite stack carried the
    primary test's suffix in the replica region, and was deleted after the test stack."""
    _, results = offline_run
    primary = _by_test_and_region(results)[("primary", PRIMARY)]
    [prerequisite] = results["prerequisites"]
    assert prerequisite["test"] == "primary"
    assert prerequisite["region"] == REPLICA
    assert prerequisite["for_region"] == PRIMARY
    assert prerequisite["suffix"] == primary["suffix"]
    assert prerequisite["created_status"] == "CREATE_COMPLETE"
    assert prerequisite["final_status"] == "DELETE_COMPLETE"


def test_the_data_the_test_stacks_retained_is_purged(offline_run):
    """Table, buckets and keys are retained on stack delete; a random test suffix's data goes."""
    proc, results = offline_run
    for stack in results["stacks"]:
        assert f"purging the data retained by suffix {stack['suffix']}:" in proc.stdout
    primary = _by_test_and_region(results)[("primary", PRIMARY)]
    for region in (REPLICA, PRIMARY):  # the global table, its replica first
        assert f"deleted table payment-{primary['suffix']}-payments in {region}" in proc.stdout
    assert "not purged" not in proc.stdout


def test_the_run_prints_one_row_per_test_and_region(offline_run):
    proc, results = offline_run
    for stack in results["stacks"]:
        row = re.compile(
            rf"^{stack['test']}\s+{stack['region']}\s+{stack['suffix']}\s+"
            rf"CREATE_COMPLETE\s+DELETE_COMPLETE\s+{re.escape(stack['stack_name'])}$",
            re.M,
        )
        assert row.search(proc.stdout), proc.stdout


def test_nothing_left_running_and_nothing_reached_beyond_the_emulator(offline_run):
    proc, results = offline_run
    assert _gone(_emulator_pid(proc.stdout))
    assert results["blocked_connections"] == []
    outputs = ROOT / "taskcat_outputs"
    assert outputs.is_dir()
    logs = sorted(p.name for p in outputs.glob("tCaT-*-cfnlogs.txt"))
    assert logs == sorted(
        f"{stack['stack_name']}-{stack['region']}-cfnlogs.txt" for stack in results["stacks"]
    )
    assert "HTML report skipped" in proc.stdout


def test_aws_without_credentials_exits_2_with_a_message(tmp_path):
    proc = _run(tmp_path, "--aws", "--output-dir", str(tmp_path / "out"), timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "no AWS credentials are configured" in proc.stderr
    assert not (tmp_path / "out").exists()  # refused before anything else


def test_endpoint_url_and_aws_together_are_refused(tmp_path):
    proc = _run(tmp_path, "--aws", "--endpoint-url", "http://127.0.0.1:1", timeout=120)
    assert proc.returncode == 2
    assert "not allowed with argument" in proc.stderr


def test_emulator_that_cannot_start_exits_1_with_its_log_tail(tmp_path, offline_run):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _run(
            tmp_path,
            "--emulator-port",
            str(port),
            "--output-dir",
            str(tmp_path / "out"),
            timeout=300,
        )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "the emulator exited with code" in proc.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr  # the emulator's own words
    assert not (tmp_path / "out" / "results.json").exists()  # taskcat never ran


def test_a_template_failing_in_one_region_is_named_and_the_rest_cleaned_up(tmp_path, offline_run):
    """The primary test without its prerequisite hook: its global table cannot find the replica
    region's key. The replica test still passes, and every stack is still deleted."""
    import yaml

    config = yaml.safe_load((ROOT / ".taskcat.yml").read_text())
    del config["tests"]["primary"]["prehooks"]
    broken = tmp_path / "taskcat-without-prerequisites.yml"
    broken.write_text(yaml.safe_dump(config))
    proc = _run(tmp_path, "--config", str(broken), "--output-dir", str(tmp_path / "out"))
    assert proc.returncode == 1, proc.stdout + proc.stderr

    results = json.loads((tmp_path / "out" / "results.json").read_text())
    stacks = _by_test_and_region(results)
    primary, replica = stacks[("primary", PRIMARY)], stacks[("replica", REPLICA)]
    assert primary["created_status"] == "CREATE_FAILED"
    # the replica region and the key the table replica could not find
    assert f"alias/payment-{primary['suffix']}-table" in primary["created_reason"]
    assert f":kms:{REPLICA}:" in primary["created_reason"]
    assert replica["created_status"] == "CREATE_COMPLETE"
    assert primary["final_status"] == replica["final_status"] == "DELETE_COMPLETE"
    assert results["prerequisites"] == []

    failed = [line for line in proc.stdout.splitlines() if line.startswith("FAILED ")]
    assert failed == [f"FAILED primary {PRIMARY}: CREATE_FAILED: {primary['created_reason']}"]
    assert _gone(_emulator_pid(proc.stdout))


def test_a_failing_prerequisite_stops_the_run_and_is_named(tmp_path, offline_run):
    """The prehook's stack is refused (here: a template whose parameters it cannot fill), so
    taskcat starts no test stack; the run names the region and the reason."""
    import yaml

    config = yaml.safe_load((ROOT / ".taskcat.yml").read_text())
    [hook] = config["tests"]["primary"]["prehooks"]
    hook["config"]["template"] = "build/primary.template.json"  # needs ArtifactBucketName
    broken = tmp_path / "taskcat-broken-prerequisite.yml"
    broken.write_text(yaml.safe_dump(config))
    proc = _run(tmp_path, "--config", str(broken), "--output-dir", str(tmp_path / "out"))
    assert proc.returncode == 1, proc.stdout + proc.stderr

    results = json.loads((tmp_path / "out" / "results.json").read_text())
    [prerequisite] = results["prerequisites"]
    assert prerequisite["region"] == REPLICA
    assert prerequisite["created_status"] == "CREATE_FAILED"
    assert "ArtifactBucketName" in prerequisite["created_reason"]
    assert {s["created_status"] for s in results["stacks"]} == {"NOT_STARTED"}
    assert f"FAILED primary prerequisite {REPLICA}: CREATE_FAILED: " in proc.stdout


def test_the_offline_guard_refuses_and_records_any_other_host(tmp_path, offline_run):
    """taskcat hard-codes https://sts.<region>.amazonaws.com and fetches its report's CSS from
    GitHub: in an offline run both are refused, and recorded (the run then fails)."""
    guard = (
        "import sys, boto3, requests\n"
        "from botocore.config import Config\n"
        "sys.path.insert(0, 'scripts/taskcat_support')\n"
        "import runner\n"
        "runner._endpoint_only('http://127.0.0.1:9')\n"
        "sts = boto3.client('sts', region_name='us-east-1',\n"
        "    endpoint_url='https://sts.us-east-1.amazonaws.com',\n"
        "    config=Config(retries={'max_attempts': 1}))\n"
        "for call in (sts.get_caller_identity,\n"
        "             lambda: requests.get('https://raw.githubusercontent.com/', timeout=3)):\n"
        "    try:\n"
        "        call()\n"
        "    except Exception:\n"
        "        pass\n"
        "print(sorted(set(runner.BLOCKED)))\n"
    )
    env = {**_environment(tmp_path), "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    proc = subprocess.run(
        [str(ROOT / ".venvs" / "taskcat" / "bin" / "python"), "-c", guard],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['raw.githubusercontent.com', 'sts.us-east-1.amazonaws.com']"
