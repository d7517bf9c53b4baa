"""What goes wrong: bad input changes nothing, a failing instance names its region, a re-run
converges, a new region is added; then everything is purged. Runs in file order."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from templates_src import names

from .conftest import ACCOUNT, PRIMARY, REPLICA, deploy_args, run_cli, run_delete, run_deploy

pytestmark = pytest.mark.integration

SUFFIX = "test-fault"  # a throw-away suffix: GOVERNANCE lock, so the purge can empty it
EXTRA = "eu-west-1"
REPLICA_SET = names.stack_set(SUFFIX, "replica")
PRIMARY_SET = names.stack_set(SUFFIX, "primary")
STANDBY_SET = names.stack_set(SUFFIX, "standby")
# Not retained data (deploy would refuse that up front): a parameter someone else created.
CONFLICT = f"/payment/{SUFFIX}/table-name"


@pytest.fixture(scope="module")
def args(emulator, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return deploy_args(emulator.url, SUFFIX, tmp_path_factory.mktemp("faults"), "--bootstrap")


def _nothing_exists(aws) -> bool:
    return (
        aws("cloudformation").list_stack_sets(Status="ACTIVE")["Summaries"] == []
        and aws("s3").list_buckets()["Buckets"] == []
    )


@pytest.mark.parametrize(
    ("script", "argv", "reason"),
    [
        ("deploy.py", ["--environment-suffix", "Bad_Suffix"], "invalid environment suffix"),
        ("deploy.py", ["--environment-suffix", "x" * 21], "invalid environment suffix"),
        ("deploy.py", ["--replica-regions", "us-east-1"], "must not also be a replica"),
        ("deploy.py", ["--replica-regions", "mars-north-1"], "unknown AWS region"),
        ("deploy.py", ["--accounts", "12345"], "not a 12-digit account id"),
        ("deploy.py", ["--domain-name", "pay.example.com"], "go together"),
        ("deploy.py", ["--hosted-zone-id", "Z0123456789ABC"], "go together"),
        (
            "deploy.py",
            ["--domain-name", "pay example.com", "--hosted-zone-id", "Z0123456789ABC"],
            "is not a DNS name",
        ),
        (
            "deploy.py",
            ["--domain-name", "pay.example.com", "--hosted-zone-id", "zone-1"],
            "is not a hosted zone id",
        ),
        ("delete.py", ["--environment-suffix=-dash"], "invalid environment suffix"),
        ("deploy.py", ["--no-such-flag"], "unrecognized arguments"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(aws, emulator, script, argv, reason):
    result = run_cli(script, [*argv, "--endpoint-url", emulator.url])
    assert result.code == 2
    assert reason in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert _nothing_exists(aws)


def test_a_failing_stack_instance_exits_1_naming_the_region(aws, args):
    # Something outside the deployment already holds a name the replica template creates.
    aws("ssm", REPLICA).put_parameter(Name=CONFLICT, Value="someone else's", Type="String")

    result = run_deploy(args)

    assert result.code == 1
    assert "us-west-2" in result.err and "AlreadyExists" in result.err
    cfn = aws("cloudformation")
    instance = cfn.list_stack_instances(StackSetName=REPLICA_SET)["Summaries"][0]
    assert (instance["Region"], instance["Status"]) == (REPLICA, "OUTDATED")
    # Replicas go first; the primary was never started.
    with pytest.raises(ClientError, match="StackSetNotFound"):
        cfn.describe_stack_set(StackSetName=PRIMARY_SET)
    # The failed creation rolled back: no half-made bucket is left behind.
    with pytest.raises(ClientError):
        aws("s3", REPLICA).head_bucket(Bucket=names.audit_bucket(SUFFIX, ACCOUNT, REPLICA))


def test_a_re_run_after_the_cause_is_removed_converges(aws, args):
    aws("ssm", REPLICA).delete_parameter(Name=CONFLICT)

    result = run_deploy(args)

    assert result.code == 0, result.err
    assert "redeploying outdated instances in us-west-2" in result.out
    cfn = aws("cloudformation")
    for name in (REPLICA_SET, PRIMARY_SET):
        assert {i["Status"] for i in cfn.list_stack_instances(StackSetName=name)["Summaries"]} == {
            "CURRENT"
        }
    aws("dynamodb", REPLICA).describe_table(TableName=names.table(SUFFIX))


def test_a_newly_configured_region_gets_its_instance_and_table_replica(aws, args):
    result = run_deploy([*args, "--replica-regions", f"{REPLICA},{EXTRA}"])

    assert result.code == 0, result.err
    assert "built for another configuration" in result.out
    cfn = aws("cloudformation")
    for name in (REPLICA_SET, STANDBY_SET):
        instances = cfn.list_stack_instances(StackSetName=name)["Summaries"]
        assert {i["Region"] for i in instances} == {REPLICA, EXTRA}, name
    table = aws("dynamodb", EXTRA).describe_table(TableName=names.table(SUFFIX))["Table"]
    assert table["SSEDescription"]["KMSMasterKeyArn"].startswith(f"arn:aws:kms:{EXTRA}:")
    # The new region's standby reads its own replica's stream, and us-east-1 alarms on its check.
    mappings = aws("lambda", EXTRA).list_event_source_mappings(
        FunctionName=names.resource(SUFFIX, names.AUDIT_WRITER_FUNCTION)
    )["EventSourceMappings"]
    assert [m["EventSourceArn"] for m in mappings] == [table["LatestStreamArn"]]
    alarms = aws("cloudwatch").describe_alarms(
        AlarmNames=[names.resource(SUFFIX, f"api-health-{EXTRA}")]
    )
    assert len(alarms["MetricAlarms"]) == 1
    aws("s3", EXTRA).head_bucket(Bucket=names.artifact_bucket(SUFFIX, ACCOUNT, EXTRA))


def test_dropping_a_region_without_the_flag_changes_nothing(aws, args):
    before = len(
        aws("cloudformation").list_stack_set_operations(StackSetName=PRIMARY_SET)["Summaries"]
    )

    result = run_deploy([*args, "--replica-regions", REPLICA])

    assert result.code == 2
    assert EXTRA in result.err and "--remove-unconfigured-regions" in result.err
    cfn = aws("cloudformation")
    assert len(cfn.list_stack_set_operations(StackSetName=PRIMARY_SET)["Summaries"]) == before
    regions = {i["Region"] for i in cfn.list_stack_instances(StackSetName=REPLICA_SET)["Summaries"]}
    assert regions == {REPLICA, EXTRA}
    table = aws("dynamodb", EXTRA).describe_table(TableName=names.table(SUFFIX))["Table"]
    assert table["DeletionProtectionEnabled"] is True


def test_dropping_a_region_with_the_flag_removes_its_instance_and_table_replica(aws, args):
    result = run_deploy([*args, "--replica-regions", REPLICA, "--remove-unconfigured-regions"])

    assert result.code == 0, result.err
    cfn = aws("cloudformation")
    for name in (REPLICA_SET, STANDBY_SET):
        instances = cfn.list_stack_instances(StackSetName=name)["Summaries"]
        assert {i["Region"] for i in instances} == {REPLICA}, name
    # The standby went before its table replica did.
    assert result.out.index(f"{STANDBY_SET}: removing instances in {EXTRA}") < result.out.index(
        f"turning off deletion protection of the table replica in {EXTRA}"
    )
    assert aws("lambda", EXTRA).list_functions()["Functions"] == []
    with pytest.raises(ClientError, match="ResourceNotFound"):
        aws("dynamodb", EXTRA).describe_table(TableName=names.table(SUFFIX))
    aws("dynamodb", REPLICA).describe_table(TableName=names.table(SUFFIX))
    # The removed region's retained data (keys, audit bucket) is still there for a purge.
    aws("s3", EXTRA).head_bucket(Bucket=names.audit_bucket(SUFFIX, ACCOUNT, EXTRA))


def test_purge_finds_every_configured_region(aws, emulator):
    result = run_delete(
        [
            "--environment-suffix",
            SUFFIX,
            "--replica-regions",
            f"{REPLICA},{EXTRA}",
            "--endpoint-url",
            emulator.url,
            "--purge-data",
            "--yes",
        ]
    )
    assert result.code == 0, result.err
    for region in (PRIMARY, REPLICA, EXTRA):
        with pytest.raises(ClientError, match="ResourceNotFound"):
            aws("dynamodb", region).describe_table(TableName=names.table(SUFFIX))
    assert aws("s3").list_buckets()["Buckets"] == []
    for region in (PRIMARY, REPLICA, EXTRA):
        kms = aws("kms", region)
        for key in kms.list_keys()["Keys"]:
            tags = kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]
            state = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"]
            ours = {"TagKey": "EnvironmentSuffix", "TagValue": SUFFIX} in tags
            # The deployment's keys are scheduled for deletion; anyone else's are left alone.
            assert state == ("PendingDeletion" if ours else "Enabled"), (region, tags)


def test_scripts_run_from_any_directory(tmp_path: Path, emulator):
    result = run_cli("delete.py", ["--environment-suffix", SUFFIX, "--endpoint-url", emulator.url])
    assert result.code == 0, result.err
    assert f"nothing to delete for payment-{SUFFIX}" in result.out
