"""``scripts/run_taskcat.py`` end to end against the local emulator, and its bad-input paths.

The run starts its own emulator and stops it afterwards, so the assertions read what the run
recorded (``results.json`` in its output folder, the printed table) and check that nothing is
left running. Every run writes under a temporary folder only - its build, taskcat's outputs and
project copy, the emulator's log, any ``.taskcat`` folder - and each checks that the repository
has no new or changed file afterwards. taskcat's environment comes from
``scripts/setup_tools.py``; without it every test here fails, naming that command.
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

from payment_ops import toolvenv
from tests.tool_environments import require

ROOT = Path(__file__).resolve().parents[2]
TASKCAT_SUPPORT = ROOT / "payment_ops" / "taskcat_support"
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


# Ignored folders that anything run from the repository may create or change meanwhile (the
# test run's own caches, other test workers' bytecode); everything else must stay as it was.
CACHES = ("__pycache__/", ".pytest_cache/", ".hypothesis/", ".venv/", ".venvs/", ".egg-info/")


def _environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in AWS_VARIABLES}
    empty = tmp_path / "empty-aws-file"
    empty.write_text("")
    (tmp_path / "tmp").mkdir(exist_ok=True)
    (tmp_path / "home").mkdir(exist_ok=True)
    env.update(
        AWS_CONFIG_FILE=str(empty),
        AWS_SHARED_CREDENTIALS_FILE=str(empty),
        AWS_EC2_METADATA_DISABLED="true",  # no instance-metadata credentials either
        TMPDIR=str(tmp_path / "tmp"),  # taskcat's project copy, the emulator's temporary files
        HOME=str(tmp_path / "home"),  # no ~/.taskcat.yml of the machine, nothing written there
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def _repository_state() -> list[str]:
    """``git status`` of the repository, every untracked and ignored file listed, each line with
    its file's modification time (git does not compare an ignored or already modified file's
    content), less the caches."""
    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    state = []
    for line in status:
        if any(cache in line for cache in CACHES):
            continue
        path = ROOT / line[3:].split(" -> ")[-1]
        state.append(f"{line} {path.stat().st_mtime_ns if path.exists() else '-'}")
    return state


def _run(
    tmp_path: Path, *args: str, build: Path | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """run_taskcat.py with its build in ``build`` (default: under ``tmp_path``); the repository
    has no new or changed file afterwards."""
    before = _repository_state()
    build = build or tmp_path / "build"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--build-dir", str(build), *args],
        cwd=tmp_path,
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert _repository_state() == before, proc.stdout + proc.stderr
    return proc


def _by_test_and_region(results: dict) -> dict[tuple[str, str], dict]:
    return {(stack["test"], stack["region"]): stack for stack in results["stacks"]}


def _prerequisites_of(results: dict, test: str) -> list[dict]:
    """The test's prerequisite records, in creation order (as results.json lists them)."""
    return [item for item in results["prerequisites"] if item["test"] == test]


def _purge_section(stdout: str, suffix: str) -> str:
    match = re.search(
        rf"^purging the data retained by suffix {suffix}:\n((?:  .*\n)*)", stdout, re.M
    )
    assert match, stdout
    return match.group(1)


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


@pytest.fixture(scope="module", autouse=True)
def taskcat_python() -> Path:
    return require(toolvenv.TASKCAT)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default run's folder: its build (reused by the later runs), outputs, temporaries."""
    return tmp_path_factory.mktemp("taskcat")


@pytest.fixture(scope="module")
def offline_run(work: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """One full default run: build, emulator, taskcat, clean-up."""
    started = time.monotonic()
    proc = _run(work, "--output-dir", str(work / "out"))
    print(f"run_taskcat.py took {time.monotonic() - started:.1f} s")
    results_file = work / "out" / "results.json"
    assert results_file.is_file(), proc.stdout + proc.stderr
    return proc, json.loads(results_file.read_text())


def test_offline_run_passes(offline_run):
    proc, _ = offline_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "every test stack reached CREATE_COMPLETE and was deleted" in proc.stdout


def test_every_test_stack_was_created_then_deleted_in_its_region(offline_run):
    _, results = offline_run
    stacks = _by_test_and_region(results)
    assert set(stacks) == {("replica", REPLICA), ("primary", PRIMARY), ("standby", REPLICA)}
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
    [prerequisite] = _prerequisites_of(results, "primary")
    assert (prerequisite["step"], prerequisite["template"]) == (1, "build/replica.template.json")
    assert prerequisite["region"] == REPLICA
    assert prerequisite["for_region"] == PRIMARY
    assert prerequisite["suffix"] == primary["suffix"]
    assert prerequisite["created_status"] == "CREATE_COMPLETE"
    assert prerequisite["final_status"] == "DELETE_COMPLETE"


def test_the_standby_test_got_replica_then_primary_and_lost_them_in_reverse(offline_run):
    """The standby test's own suffix: the replica stack (keys, topic) in its region, then the
    primary stack (table and secret replicas) in the primary region, each complete before the
    next; after taskcat deleted the standby stack, the primary went before the replica, whose
    exports it would otherwise still block."""
    _, results = offline_run
    standby = _by_test_and_region(results)[("standby", REPLICA)]
    replica, primary = _prerequisites_of(results, "standby")
    assert (replica["step"], replica["template"], replica["region"]) == (
        1,
        "build/replica.template.json",
        REPLICA,
    )
    assert (primary["step"], primary["template"], primary["region"]) == (
        2,
        "build/primary.template.json",
        PRIMARY,
    )
    for item in (replica, primary):
        assert item["suffix"] == standby["suffix"]
        assert item["for_region"] == REPLICA
        assert f":cloudformation:{item['region']}:" in item["stack_id"]
        assert item["created_status"] == "CREATE_COMPLETE", item
        assert item["final_status"] == "DELETE_COMPLETE", item
    # created in order, each waited for
    assert replica["created_at"] <= primary["create_requested_at"]
    # the test stack first, then the prerequisites in reverse, each waited for
    assert results["test_stacks_deleted_at"] <= primary["delete_requested_at"]
    assert primary["deleted_at"] <= replica["delete_requested_at"]


def test_the_data_the_test_stacks_retained_is_purged(offline_run):
    """Table, buckets and keys are retained on stack delete; a random test suffix's data goes."""
    proc, results = offline_run
    for stack in results["stacks"]:
        assert f"purging the data retained by suffix {stack['suffix']}:" in proc.stdout
    stacks = _by_test_and_region(results)
    for test in ("primary", "standby"):  # the standby's table is its primary prerequisite's
        suffix = stacks[(test, PRIMARY if test == "primary" else REPLICA)]["suffix"]
        for region in (REPLICA, PRIMARY):  # the global table, its replica first
            assert f"deleted table payment-{suffix}-payments in {region}" in proc.stdout
    standby = stacks[("standby", REPLICA)]["suffix"]
    for region in (REPLICA, PRIMARY):  # keys of its replica and of its primary prerequisite
        assert re.search(rf"KMS key \S+ in {region}", _purge_section(proc.stdout, standby))
    assert "not purged" not in proc.stdout


def test_nothing_of_any_suffix_is_left_in_any_region(offline_run):
    """The run checks after the purge: no stack, table, bucket or KMS alias of a suffix it used
    (test stacks and prerequisites) in us-east-1 or us-west-2, and no KMS key but pending ones."""
    proc, results = offline_run
    suffixes = {s["suffix"] for s in results["stacks"]} | {
        p["suffix"] for p in results["prerequisites"]
    }
    assert len(suffixes) == 3
    assert (
        f"nothing left of suffixes {', '.join(sorted(suffixes))} in {PRIMARY}, {REPLICA} "
        "(stacks, tables, buckets, KMS aliases; their KMS keys are pending deletion)"
    ) in proc.stdout


def test_the_run_prints_one_row_per_test_and_region(offline_run):
    proc, results = offline_run
    for stack in results["stacks"]:
        row = re.compile(
            rf"^{stack['test']}\s+{stack['region']}\s+{stack['suffix']}\s+"
            rf"CREATE_COMPLETE\s+DELETE_COMPLETE\s+{re.escape(stack['stack_name'])}$",
            re.M,
        )
        assert row.search(proc.stdout), proc.stdout


def test_nothing_left_running_and_nothing_reached_beyond_the_emulator(offline_run, work):
    proc, results = offline_run
    assert _gone(_emulator_pid(proc.stdout))
    assert results["blocked_connections"] == []
    outputs = work / "out"
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


def test_the_project_copy_is_gone_and_nothing_went_to_the_repository(offline_run, work):
    """taskcat ran on a temporary copy of the build, removed after the run."""
    proc, _ = offline_run
    assert not list((work / "tmp").iterdir()), proc.stdout  # project copy, emulator log: gone
    assert "building " + str(work / "build") in proc.stdout  # the build went there too


def test_emulator_that_cannot_start_exits_1_with_its_log_tail(tmp_path, offline_run, work):
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
            build=work / "build",
            timeout=300,
        )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "the emulator exited with code" in proc.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr  # the emulator's own words
    assert not (tmp_path / "out" / "results.json").exists()  # taskcat never ran


def test_a_template_failing_in_one_region_is_named_and_the_rest_cleaned_up(
    tmp_path, offline_run, work
):
    """The primary test without its prerequisite hook: its global table cannot find the replica
    region's key. The replica test still passes, and every stack is still deleted."""
    import yaml

    config = yaml.safe_load((ROOT / ".taskcat.yml").read_text())
    del config["tests"]["primary"]["prehooks"]
    del config["tests"]["standby"]  # not needed to show it, and it would double the run
    broken = tmp_path / "taskcat-without-prerequisites.yml"
    broken.write_text(yaml.safe_dump(config))
    proc = _run(
        tmp_path,
        "--config",
        str(broken),
        "--output-dir",
        str(tmp_path / "out"),
        build=work / "build",
    )
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


def test_a_failing_prerequisite_stops_its_later_steps_and_the_run(tmp_path, offline_run, work):
    """The standby test's first step is refused (here: a template whose parameters it cannot
    fill), so its second step is never tried and taskcat starts no test stack; the run names
    the test, step and region, and still deletes the primary test's prerequisite."""
    import yaml

    config = yaml.safe_load((ROOT / ".taskcat.yml").read_text())
    [hook] = config["tests"]["standby"]["prehooks"]
    hook["config"]["steps"][0]["template"] = "build/standby.template.json"  # needs more
    broken = tmp_path / "taskcat-broken-prerequisite.yml"
    broken.write_text(yaml.safe_dump(config))
    proc = _run(
        tmp_path,
        "--config",
        str(broken),
        "--output-dir",
        str(tmp_path / "out"),
        build=work / "build",
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr

    results = json.loads((tmp_path / "out" / "results.json").read_text())
    [prerequisite] = _prerequisites_of(results, "standby")  # step 2 never started
    assert (prerequisite["step"], prerequisite["region"]) == (1, REPLICA)
    assert prerequisite["created_status"] == "CREATE_FAILED"
    assert "ArtifactBucketPrefix" in prerequisite["created_reason"]
    [other] = _prerequisites_of(results, "primary")
    assert (other["created_status"], other["final_status"]) == (
        "CREATE_COMPLETE",
        "DELETE_COMPLETE",
    )
    assert {s["created_status"] for s in results["stacks"]} == {"NOT_STARTED"}
    assert f"FAILED standby prerequisite 1 (standby) in {REPLICA}: CREATE_FAILED: " in proc.stdout
    assert "nothing left of suffixes" in proc.stdout


def test_the_offline_guard_refuses_and_records_any_other_host(
    tmp_path, offline_run, taskcat_python
):
    """taskcat hard-codes https://sts.<region>.amazonaws.com and fetches its report's CSS from
    GitHub: in an offline run both are refused, and recorded (the run then fails)."""
    guard = (
        "import sys, boto3, requests\n"
        "from botocore.config import Config\n"
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
    env = {
        **_environment(tmp_path),
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        # taskcat's interpreter has none of this project installed: the support modules are
        # found on its path, as they are when run_taskcat starts runner.py from that folder.
        "PYTHONPATH": str(TASKCAT_SUPPORT),
    }
    proc = subprocess.run(
        [str(taskcat_python), "-c", guard],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['raw.githubusercontent.com', 'sts.us-east-1.amazonaws.com']"


HOOK_PROBE = """
import json, sys
from types import SimpleNamespace as NS
import taskcat_plugin_payment_replica_prerequisites as hook
from taskcat.exceptions import TaskCatException

out = {}
try:
    hook.parse_steps({'template': 'build/replica.template.json', 'regions': ['us-west-2']})
except TaskCatException as error:
    out['former'] = str(error)
steps = hook.parse_steps({'steps': [
    {'template': 'build/replica.template.json', 'regions': ['us-west-2']},
    {'template': 'build/primary.template.json', 'regions': ['us-east-1'], 'code': True},
]})
out['steps'] = [[s.template, list(s.regions), s.code, s.label] for s in steps]

class S3:
    present = set()
    def head_object(self, Bucket, Key):
        if (Bucket, Key) not in self.present:
            raise RuntimeError('Not Found')

s3 = S3()
region = NS(
    name='us-west-2',
    s3_bucket=NS(name='tcat-abc-us-west-2', region='us-west-2', regional_buckets=True),
    parameters={'EnvironmentSuffix': 'sfx', 'HandlerCodeKey': 'proj/build/payment_processor.zip'},
    session=NS(client=lambda service, region_name: s3),
)
out['regional'] = hook.staging_bucket(region, 'us-east-1')
single = NS(s3_bucket=NS(name='tcat-abc', region='us-east-1', regional_buckets=False))
out['single'] = hook.staging_bucket(single, 'us-west-2')
primary = hook.Prerequisite('standby', 2, 'build/primary.template.json', 'us-west-2',
                            'us-east-1', 'sfx', 'name')
body = open('build/primary.template.json').read()
try:
    hook._create_arguments(primary, steps[1], body, 'proj', region)
except TaskCatException as error:
    out['missing'] = str(error)
s3.present = {('tcat-abc-us-east-1', 'proj/build/primary.template.json'),
              ('tcat-abc-us-east-1', 'proj/build/payment_processor.zip')}
arguments = hook._create_arguments(primary, steps[1], body, 'proj', region)
out['url'] = arguments['TemplateURL']
out['parameters'] = arguments['Parameters']
replica = hook.Prerequisite('standby', 1, 'build/replica.template.json', 'us-west-2',
                            'us-west-2', 'sfx', 'name')
body = open('build/replica.template.json').read()
out['replica'] = sorted(hook._create_arguments(replica, steps[0], body, 'proj', region))
print(json.dumps(out))
"""


def test_the_hook_reads_steps_and_passes_the_staged_template_and_code(
    tmp_path, offline_run, work, taskcat_python
):
    """The primary template is over the TemplateBody limit: the hook names taskcat's staged copy
    in the step region's bucket, in the URL form deploy.py uses, with the staged code."""
    from payment_ops.deployment.artifacts import object_url

    proc = subprocess.run(
        [str(taskcat_python), "-c", HOOK_PROBE],
        cwd=work,  # the probe reads build/ there
        env={**_environment(tmp_path), "PYTHONPATH": str(TASKCAT_SUPPORT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert "config needs 'steps'" in out["former"]  # one form only
    assert out["steps"] == [
        ["build/replica.template.json", [REPLICA], False, "replica"],
        ["build/primary.template.json", [PRIMARY], True, "primary"],
    ]
    assert out["regional"] == f"tcat-abc-{PRIMARY}"  # $[taskcat_autobucket_prefix]-<region>
    assert out["single"] == "tcat-abc"
    assert "no staged s3://tcat-abc-us-east-1/proj/build/" in out["missing"]
    assert "artifact_regions" in out["missing"]
    assert out["url"] == object_url(
        f"tcat-abc-{PRIMARY}", PRIMARY, "proj/build/primary.template.json"
    )
    assert {p["ParameterKey"]: p["ParameterValue"] for p in out["parameters"]} == {
        "EnvironmentSuffix": "sfx",
        "ArtifactBucketName": f"tcat-abc-{PRIMARY}",
        "HandlerCodeKey": "proj/build/payment_processor.zip",
    }
    assert out["replica"] == ["Parameters", "TemplateBody"]  # small enough to go inline
