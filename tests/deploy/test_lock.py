"""Two runs of one suffix, in file order after a first deploy: the second is told who holds
the lock and changes nothing; an expired lock is taken over; the lock is gone once a run ends.
On the emulator, whose S3 applies If-None-Match / If-Match as the S3 User Guide documents."""

from __future__ import annotations

import io
import json
import os
import socket

import pytest

from payment_ops.deployment import deploy
from payment_ops.deployment import lock as lock_module
from payment_ops.deployment.aws import Aws as DeployAws
from payment_ops.deployment.errors import DeployError
from templates_src import names

from .conftest import ACCOUNT, PRIMARY, deploy_args, operation_count, run_delete, run_deploy

pytestmark = pytest.mark.integration

SUFFIX = "locked"
BUCKET = names.artifact_bucket(SUFFIX, ACCOUNT, PRIMARY)  # the artifact bucket
STACK_SETS = [names.stack_set(SUFFIX, kind) for kind in names.DEPLOY_ORDER]


@pytest.fixture(scope="module")
def args(emulator, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return deploy_args(emulator.url, SUFFIX, tmp_path_factory.mktemp("lock"), "--bootstrap")


def _other_run(emulator, **kwargs) -> lock_module.Lock:
    """The lock as another run, on another host, writes it."""
    lock = lock_module.Lock(
        DeployAws(emulator.url), PRIMARY, BUCKET, "deploy.py", out=io.StringIO(), **kwargs
    )
    lock.holder.update(host="build-agent-7", pid=4242, started_at="2026-12-02T09:00:00Z")
    lock.acquire()
    return lock


def _lock_versions(aws) -> list[dict]:
    listed = aws("s3").list_object_versions(Bucket=BUCKET, Prefix=lock_module.KEY)
    return listed.get("Versions", []) + listed.get("DeleteMarkers", [])


def test_a_first_deploy_takes_and_releases_the_lock(aws, args):
    result = run_deploy(args)
    assert result.code == 0, result.err
    # Released without a trace: no lock object, no delete marker piling up in the bucket.
    assert _lock_versions(aws) == []


def test_a_deploy_while_another_run_holds_the_lock_says_who_and_changes_nothing(
    aws, emulator, args
):
    other = _other_run(emulator)
    before = {name: operation_count(aws, name) for name in STACK_SETS}
    try:
        result = run_deploy([*args, "--alarm-email", "oncall@example.com"])
    finally:
        held = json.loads(aws("s3").get_object(Bucket=BUCKET, Key=lock_module.KEY)["Body"].read())
        other.release()
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    assert (
        "locked by deploy.py on build-agent-7 (pid 4242) since 2026-12-02T09:00:00Z" in result.err
    )
    assert {name: operation_count(aws, name) for name in STACK_SETS} == before
    # The other run's lock was left as it was.
    assert held["host"] == "build-agent-7"
    assert _lock_versions(aws) == []


def test_a_delete_while_a_deploy_holds_the_lock_deletes_nothing(aws, emulator):
    other = _other_run(emulator)
    try:
        result = run_delete(
            ["--environment-suffix", SUFFIX, "--endpoint-url", emulator.url, "--poll", "0.05"]
        )
    finally:
        other.release()
    assert result.code == 2
    assert "locked by deploy.py on build-agent-7" in result.err
    for name in STACK_SETS:
        assert aws("cloudformation").describe_stack_set(StackSetName=name)["StackSet"][
            "Status"
        ] == ("ACTIVE")


def test_an_expired_lock_is_taken_over(aws, emulator, args):
    _other_run(emulator, lease_s=0.0)  # a run that died: its lease is over at once
    result = run_deploy(args)
    assert result.code == 0, result.err
    assert "took over the expired lock of deploy.py on build-agent-7 (pid 4242)" in result.out
    assert _lock_versions(aws) == []


def test_the_lock_names_this_host_and_process(emulator):
    lock = lock_module.Lock(
        DeployAws(emulator.url), PRIMARY, BUCKET, "delete.py", out=io.StringIO()
    )
    lock.acquire()
    try:
        second = lock_module.Lock(DeployAws(emulator.url), PRIMARY, BUCKET, "deploy.py")
        with pytest.raises(
            Exception, match=rf"delete.py on {socket.gethostname()} \(pid {os.getpid()}\)"
        ):
            second.acquire()
    finally:
        lock.release()


def test_a_waiting_run_renews_its_lease_and_notices_a_takeover(aws, emulator):
    now = [0.0]
    lock = lock_module.Lock(
        DeployAws(emulator.url),
        PRIMARY,
        BUCKET,
        "deploy.py",
        lease_s=30.0,
        out=io.StringIO(),
        clock=lambda: now[0],
    )
    lock.acquire()
    first = lock.etag
    sleeps: list[float] = []
    waiting = lock.sleeping(sleeps.append)
    waiting(5)
    assert lock.etag == first  # a third of the lease has not passed
    now[0] = 11.0
    waiting(5)
    assert lock.etag != first and sleeps == [5, 5]
    assert len(_lock_versions(aws)) == 1  # the renewed lease replaced the old version
    # Another run takes the object over: the next renewal stops this one.
    aws("s3").put_object(Bucket=BUCKET, Key=lock_module.KEY, Body=b"{}")
    now[0] = 30.0
    with pytest.raises(DeployError, match="lost the deployment lock") as lost:
        waiting(5)
    assert lost.value.exit_code == 1
    lock.release()
    aws("s3").delete_object(Bucket=BUCKET, Key=lock_module.KEY)


def test_a_change_made_between_the_plan_and_the_lock_is_planned_again(aws, args, monkeypatch):
    replica_set = STACK_SETS[0]
    take_lock = deploy.take_lock

    def another_run_acts_first(prepared, out):
        # Another run changes the stack set after this run planned, then finishes.
        cfn = aws("cloudformation")
        held = cfn.describe_stack_set(StackSetName=replica_set)["StackSet"]
        parameters = [
            {
                "ParameterKey": p["ParameterKey"],
                "ParameterValue": "other@example.com"
                if p["ParameterKey"] == "AlarmEmail"
                else p["ParameterValue"],
            }
            for p in held["Parameters"]
        ]
        cfn.update_stack_set(
            StackSetName=replica_set,
            TemplateBody=held["TemplateBody"],
            Parameters=parameters,
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
        return take_lock(prepared, out)

    monkeypatch.setattr(deploy, "take_lock", another_run_acts_first)
    result = run_deploy(args)

    assert result.code == 0, result.err
    assert "the deployment changed while this run planned; planning again" in result.out
    # This run's configuration won, from a plan made under the lock (the stale plan said
    # "up to date" and would have left the other run's value in place).
    held = aws("cloudformation").describe_stack_set(StackSetName=replica_set)["StackSet"]
    email = {p["ParameterKey"]: p["ParameterValue"] for p in held["Parameters"]}["AlarmEmail"]
    assert email == ""
