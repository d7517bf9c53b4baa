"""One deployment walked through its life against the emulator, checked through boto3.

first deploy -> no-op redeploy -> code and alarm change -> delete (data retained) -> purge.
The tests run in file order and share the deployment; each step checks what AWS now holds,
not what the tool printed.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from payment_ops.deployment.names import ACCOUNT_BASELINE_STACK_SET as BASELINE
from templates_src import build as build_module
from templates_src import config as config_module
from templates_src import names, package

from .conftest import (
    ACCOUNT,
    PRIMARY,
    REPLICA,
    ROOT,
    deploy_args,
    operation_count,
    run_cli,
    run_delete,
    run_deploy,
)

pytestmark = pytest.mark.integration

SUFFIX = "test-life"  # a throw-away suffix: GOVERNANCE lock, so the purge can empty it
EMAIL = "payments-oncall@example.com"
REPLICA_SET = names.stack_set(SUFFIX, "replica")
PRIMARY_SET = names.stack_set(SUFFIX, "primary")
STANDBY_SET = names.stack_set(SUFFIX, "standby")
TABLE = names.table(SUFFIX)
REGIONS = (PRIMARY, REPLICA)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lifecycle")


@pytest.fixture(scope="module")
def args(emulator, work: Path) -> list[str]:
    return deploy_args(emulator.url, SUFFIX, work, "--alarm-email", EMAIL)


@pytest.fixture(scope="module")
def delete_args(emulator) -> list[str]:
    return ["--environment-suffix", SUFFIX, "--endpoint-url", emulator.url, "--poll", "0.05"]


def _missing(call, *codes: str, **kwargs) -> bool:
    try:
        call(**kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"] in codes
    return False


def _code_sha256(zip_bytes: bytes) -> str:
    return base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()


def test_without_stackset_roles_deploy_explains_and_changes_nothing(aws, args):
    result = run_deploy(args)
    assert result.code == 2
    assert "AWSCloudFormationStackSetAdministrationRole" in result.err
    assert "--bootstrap" in result.err
    assert aws("cloudformation").list_stack_sets(Status="ACTIVE")["Summaries"] == []


def _check_stack_sets(aws, result, work: Path) -> None:
    """Each stack set active with one current instance, created in dependency order."""
    cfn = aws("cloudformation")
    # The primary is updated once more on a first deploy: the standby's health check id, known
    # only once the standby exists, goes to the primary's alarm in us-east-1.
    for name, region, status in (
        (REPLICA_SET, REPLICA, "CREATE_COMPLETE"),
        (PRIMARY_SET, PRIMARY, "UPDATE_COMPLETE"),
        (STANDBY_SET, REPLICA, "CREATE_COMPLETE"),
    ):
        assert cfn.describe_stack_set(StackSetName=name)["StackSet"]["Status"] == "ACTIVE"
        instances = cfn.list_stack_instances(StackSetName=name)["Summaries"]
        assert [(i["Region"], i["Status"]) for i in instances] == [(region, "CURRENT")]
        stack = aws("cloudformation", region).describe_stacks(StackName=instances[0]["StackId"])
        assert stack["Stacks"][0]["StackStatus"] == status
    assert (
        result.out.index(f"{REPLICA_SET}: creating")
        < result.out.index(f"{PRIMARY_SET}: creating")
        < result.out.index(f"{STANDBY_SET}: creating")
    )
    # The primary template is over the inline limit: the stack set got it by URL and holds it.
    held = cfn.describe_stack_set(StackSetName=PRIMARY_SET)["StackSet"]["TemplateBody"]
    assert json.loads(held) == json.loads((work / "build" / build_module.PRIMARY).read_text())


def _check_data_stores(aws, region: str) -> None:
    """The table, the audit and artifact buckets and the keys in ``region``, as configured."""
    table = aws("dynamodb", region).describe_table(TableName=TABLE)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "payment_id", "KeyType": "HASH"}]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {
        "status-index",
        "customer-index",
    }
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table["DeletionProtectionEnabled"] is True
    assert table["SSEDescription"]["Status"] == "ENABLED"

    s3 = aws("s3", region)
    for bucket, algorithm in (
        (names.audit_bucket(SUFFIX, ACCOUNT, region), "aws:kms"),
        (names.artifact_bucket(SUFFIX, ACCOUNT, region), "AES256"),
    ):
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
            "Rules"
        ][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == algorithm
        assert all(
            s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values()
        )
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
        assert any(
            s["Effect"] == "Deny"
            and str(s["Condition"]["Bool"]["aws:SecureTransport"]).lower() == "false"
            for s in policy["Statement"]
        )
    aliases = {a["AliasName"] for a in aws("kms", region).list_aliases()["Aliases"]}
    assert {names.key_alias(SUFFIX, use) for use in ("table", "audit", "app")} <= aliases


def _check_handler_code(aws, work: Path) -> None:
    """The built zip in the artifact bucket and in both regions' processors; the standby's audit
    writer on its own region's table stream."""
    manifest = json.loads((work / "build" / build_module.MANIFEST).read_text())
    zip_bytes = (work / "build" / build_module.HANDLER_ZIP).read_bytes()
    artifact = (
        aws("s3", PRIMARY)
        .get_object(
            Bucket=names.artifact_bucket(SUFFIX, ACCOUNT, PRIMARY),
            Key=manifest["handler_code_key"],
        )["Body"]
        .read()
    )
    assert artifact == zip_bytes
    for region in REGIONS:  # the primary's processor and the standby's
        function = aws("lambda", region).get_function(
            FunctionName=names.resource(SUFFIX, names.PROCESSOR_FUNCTION)
        )
        assert function["Configuration"]["CodeSha256"] == _code_sha256(zip_bytes)
        assert function["Configuration"]["Environment"]["Variables"]["TABLE_NAME"] == TABLE
    # The standby's audit writer reads the stream of the table replica in its own region.
    replica_stream = aws("dynamodb", REPLICA).describe_table(TableName=TABLE)["Table"][
        "LatestStreamArn"
    ]
    mappings = aws("lambda", REPLICA).list_event_source_mappings(
        FunctionName=names.resource(SUFFIX, names.AUDIT_WRITER_FUNCTION)
    )["EventSourceMappings"]
    assert [m["EventSourceArn"] for m in mappings] == [replica_stream]


def _check_outputs_and_health_alarms(aws, result, work: Path) -> None:
    """The outputs file, primary first, and the health alarms on the health checks it names."""
    text = (work / "flat-outputs.json").read_text()
    outputs = json.loads(text)
    keys_in_order = list(outputs)
    first_replica = next(i for i, k in enumerate(keys_in_order) if k.startswith(f"{REPLICA}."))
    assert all(not k.startswith(f"{REPLICA}.") for k in keys_in_order[:first_replica])
    assert all(k.startswith(f"{REPLICA}.") for k in keys_in_order[first_replica:])
    assert outputs["TableName"] == TABLE
    assert outputs[f"{REPLICA}.AuditBucketName"] == names.audit_bucket(SUFFIX, ACCOUNT, REPLICA)
    assert outputs["ApiUrl"].startswith(f"https://{outputs['ApiId']}.execute-api.{PRIMARY}.")
    assert outputs["ApiUrl"] in result.out  # the summary names the API
    assert outputs[f"{REPLICA}.ApiUrl"].startswith(
        f"https://{outputs[f'{REPLICA}.ApiId']}.execute-api.{REPLICA}."
    )
    # us-east-1 alarms on both regions' health checks (Route 53 metrics exist only there).
    alarms = aws("cloudwatch", PRIMARY).describe_alarms(
        AlarmNames=[
            names.resource(SUFFIX, "api-health"),
            names.resource(SUFFIX, f"api-health-{REPLICA}"),
        ]
    )["MetricAlarms"]
    checked = {
        a["AlarmName"]: {d["Value"] for d in a["Dimensions"] if d["Name"] == "HealthCheckId"}
        for a in alarms
    }
    assert checked == {
        names.resource(SUFFIX, "api-health"): {outputs["HealthCheckId"]},
        names.resource(SUFFIX, f"api-health-{REPLICA}"): {outputs[f"{REPLICA}.HealthCheckId"]},
    }


def test_first_deploy_creates_both_regions(aws, args, work):
    result = run_deploy([*args, "--bootstrap"])
    assert result.code == 0, result.err
    _check_stack_sets(aws, result, work)
    for region in REGIONS:
        _check_data_stores(aws, region)
    _check_handler_code(aws, work)

    # Nothing shared and secret is deployed (CLIENT_AUTH.md): no secret, no API key anywhere.
    for region in REGIONS:
        assert aws("secretsmanager", region).list_secrets()["SecretList"] == []
        assert aws("apigateway", region).get_api_keys()["items"] == []

    alarm = aws("cloudwatch").describe_alarms(
        AlarmNames=[names.resource(SUFFIX, "processor-errors")]
    )
    assert alarm["MetricAlarms"][0]["Threshold"] == 5.0
    _check_outputs_and_health_alarms(aws, result, work)


def test_api_gateway_logging_is_set_once_per_region_by_the_account_baseline(aws):
    # A stage with execution logging needs the account and region to name a CloudWatch role
    # ("Set up CloudWatch logging for REST APIs in API Gateway"); the baseline stack set, not an
    # environment's template, holds that one setting.
    for region in REGIONS:
        role_arn = aws("apigateway", region).get_account()["cloudwatchRoleArn"]
        assert role_arn.endswith(f":role/payment-apigateway-cloudwatch-{region}")
    instances = aws("cloudformation").list_stack_instances(StackSetName=BASELINE)["Summaries"]
    assert sorted(i["Region"] for i in instances) == sorted(REGIONS)


def test_redeploy_with_nothing_changed_starts_no_operation(aws, args):
    before = {name: operation_count(aws, name) for name in (REPLICA_SET, PRIMARY_SET, STANDBY_SET)}
    result = run_deploy(args)
    assert result.code == 0, result.err
    assert {name: operation_count(aws, name) for name in before} == before
    assert "up to date, no operation started" in result.out


def test_code_and_alarm_threshold_change_updates_the_primary_instance(aws, args, work, monkeypatch):
    # A new handler version and a new threshold, built the way the build command builds them.
    handler = work / "handler-v2"
    shutil.copytree(ROOT / "handler", handler, ignore=shutil.ignore_patterns("__pycache__"))
    with (handler / "__init__.py").open("a") as init:
        init.write("\n# v2\n")
    original_zip = package.build_zip
    monkeypatch.setattr(package, "build_zip", lambda source=handler: original_zip(handler))
    config = config_module.from_inputs(environment_suffix=SUFFIX, alarm_email=EMAIL)
    changed = dataclasses.replace(
        config, thresholds=dataclasses.replace(config.thresholds, processor_errors=7)
    )
    result = build_module.build(changed, work / "build-v2")
    assert result.clean
    new_zip = (work / "build-v2" / build_module.HANDLER_ZIP).read_bytes()

    before = {name: operation_count(aws, name) for name in (REPLICA_SET, PRIMARY_SET, STANDBY_SET)}
    deployed = run_deploy([*args, "--build-dir", str(work / "build-v2")])
    assert deployed.code == 0, deployed.err

    assert operation_count(aws, REPLICA_SET) == before[REPLICA_SET]
    assert operation_count(aws, PRIMARY_SET) == before[PRIMARY_SET] + 1
    assert operation_count(aws, STANDBY_SET) == before[STANDBY_SET] + 1  # new code there too
    cfn = aws("cloudformation")
    latest = cfn.list_stack_set_operations(StackSetName=PRIMARY_SET)["Summaries"][-1]
    assert (latest["Action"], latest["Status"]) == ("UPDATE", "SUCCEEDED")
    alarm = aws("cloudwatch").describe_alarms(
        AlarmNames=[names.resource(SUFFIX, "processor-errors")]
    )
    assert alarm["MetricAlarms"][0]["Threshold"] == 7.0
    for region in REGIONS:
        for name in (
            names.resource(SUFFIX, names.PROCESSOR_FUNCTION),
            names.resource(SUFFIX, names.AUDIT_WRITER_FUNCTION),
        ):
            function = aws("lambda", region).get_function(FunctionName=name)
            assert function["Configuration"]["CodeSha256"] == _code_sha256(new_zip)
    instance = cfn.list_stack_instances(StackSetName=PRIMARY_SET)["Summaries"][0]
    assert instance["Status"] == "CURRENT"


def test_delete_removes_stack_sets_and_retains_data(aws, delete_args, work):
    audit = aws("s3", REPLICA)
    bucket = names.audit_bucket(SUFFIX, ACCOUNT, REPLICA)
    for body in (b"v1", b"v2"):
        audit.put_object(Bucket=bucket, Key="payments/2026/01/01/p1.json", Body=body)
    audit.delete_object(Bucket=bucket, Key="payments/2026/01/01/p1.json")
    outputs = json.loads((work / "flat-outputs.json").read_text())

    result = run_delete(delete_args)
    assert result.code == 0, result.err

    cfn = aws("cloudformation")
    for name in (STANDBY_SET, PRIMARY_SET, REPLICA_SET):
        assert _missing(cfn.describe_stack_set, "StackSetNotFoundException", StackSetName=name)
    for region in REGIONS:
        live = aws("cloudformation", region).describe_stacks()["Stacks"]
        stacks = [s["StackName"] for s in live if s["StackName"].startswith("StackSet-")]
        # The account baseline is every environment's: an environment's delete leaves it.
        assert [s for s in stacks if not s.startswith(f"StackSet-{BASELINE}-")] == []
        assert [s for s in stacks if s.startswith(f"StackSet-{BASELINE}-")]
        assert (
            aws("dynamodb", region).describe_table(TableName=TABLE)["Table"]["TableStatus"]
            == "ACTIVE"
        )
        aws("s3", region).head_bucket(Bucket=names.audit_bucket(SUFFIX, ACCOUNT, region))
    for key in ("TableKeyArn", "AuditKeyArn", f"{REPLICA}.TableKeyArn"):
        region = REPLICA if key.startswith(REPLICA) else PRIMARY
        state = aws("kms", region).describe_key(KeyId=outputs[key])["KeyMetadata"]["KeyState"]
        assert state == "Enabled"
    for region in REGIONS:
        assert aws("lambda", region).list_functions()["Functions"] == []
    assert f"table {TABLE}" in result.out and bucket in result.out and "KMS key" in result.out


def test_purge_without_confirmation_on_non_interactive_stdin_is_refused(aws, emulator):
    result = run_cli(
        "delete.py",
        ["--environment-suffix", SUFFIX, "--endpoint-url", emulator.url, "--purge-data"],
    )
    assert result.code == 2
    assert "refusing" in result.err and "--yes" in result.err
    for region in REGIONS:
        assert (
            aws("dynamodb", region).describe_table(TableName=TABLE)["Table"]["TableName"] == TABLE
        )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_purge_with_a_wrong_interactive_answer_deletes_nothing(aws, delete_args):
    result = run_delete([*delete_args, "--purge-data"], stdin=_Terminal("prod\n"))
    assert result.code == 2
    assert aws("dynamodb", REPLICA).describe_table(TableName=TABLE)["Table"]["TableName"] == TABLE


def test_purge_after_plain_delete_leaves_nothing(aws, delete_args, work):
    outputs = json.loads((work / "flat-outputs.json").read_text())
    result = run_delete([*delete_args, "--purge-data"], stdin=_Terminal(f"{SUFFIX}\n"))
    assert result.code == 0, result.err

    for region in REGIONS:
        assert _missing(
            aws("dynamodb", region).describe_table, "ResourceNotFoundException", TableName=TABLE
        )
        buckets = [b["Name"] for b in aws("s3", region).list_buckets()["Buckets"]]
        assert [b for b in buckets if b.startswith(names.prefix(SUFFIX))] == []
        kms = aws("kms", region)
        assert [
            a
            for a in kms.list_aliases()["Aliases"]
            if a["AliasName"].startswith(names.key_alias(SUFFIX, ""))
        ] == []
        prefix = "" if region == PRIMARY else f"{region}."
        for use in ("Table", "Audit", "App"):
            key = kms.describe_key(KeyId=outputs[f"{prefix}{use}KeyArn"])["KeyMetadata"]
            assert key["KeyState"] == "PendingDeletion"
        assert aws("secretsmanager", region).list_secrets()["SecretList"] == []
        groups = aws("logs", region).describe_log_groups()["logGroups"]
        assert [
            g["logGroupName"] for g in groups if names.prefix(SUFFIX) in g["logGroupName"]
        ] == []
        assert (
            aws("ssm", region).get_parameters_by_path(Path=f"/payment/{SUFFIX}", Recursive=True)[
                "Parameters"
            ]
            == []
        )
    assert aws("apigateway").get_rest_apis()["items"] == []


def test_delete_when_nothing_exists_says_so(delete_args):
    result = run_delete(delete_args)
    assert result.code == 0
    assert (
        "does not exist" in result.out and f"nothing to delete for payment-{SUFFIX}" in result.out
    )
