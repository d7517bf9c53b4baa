"""The emulator itself: every resource type of the built templates is really created, each
project model makes the resource boto3 sees, stack deletion honours Retain, stack set updates
reach the instance stacks, and ``scripts/local_aws.py`` serves as CONTRACT §4 says."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from templates_src import build as build_module
from templates_src import config as config_module
from templates_src import names
from templates_src import regions as regions_module

from .conftest import ACCOUNT, PRIMARY, REPLICA, ROOT, operation_outcome

pytestmark = pytest.mark.integration

SUFFIX = "emu"
EMAIL = "alarms@example.com"  # so the conditional e-mail subscription exists too
ARTIFACT_PREFIX = names.artifact_prefix(SUFFIX, ACCOUNT)
ARTIFACTS = f"{ARTIFACT_PREFIX}-{PRIMARY}"
DOMAIN = "pay.example.com"  # so the conditional custom domain and failover records exist too
# Declared but not created, by design: Route 53 health-check metrics exist only in us-east-1,
# so the standby in us-west-2 has no alarm on its own check (the primary's stack has it).
# IAM's events reach EventBridge in us-east-1 only, so the role-change rule is there too.
ABSENT_BY_DESIGN = {build_module.STANDBY: {"ApiHealthCheckAlarm", "PaymentRoleChangedRule"}}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("emulator-build")
    config = config_module.from_inputs(environment_suffix=SUFFIX, alarm_email=EMAIL)
    assert build_module.build(config, out).clean
    return out


def _switched_on(template: Path) -> dict[str, str]:
    """``true`` for every true/false parameter (they switch optional resources on)."""
    parameters = json.loads(template.read_text()).get("Parameters", {})
    return {
        name: "true"
        for name, spec in parameters.items()
        if sorted(spec.get("AllowedValues", [])) == ["false", "true"]
    }


def _artifact_buckets(aws, built: Path, manifest: dict) -> None:
    """Each region's artifact bucket, holding the handler zip."""
    for region in (PRIMARY, REPLICA):
        s3 = aws("s3", region)
        bucket = f"{ARTIFACT_PREFIX}-{region}"
        location = {} if region == "us-east-1" else {"LocationConstraint": region}
        s3.create_bucket(
            Bucket=bucket, **({"CreateBucketConfiguration": location} if location else {})
        )
        s3.put_object(
            Bucket=bucket,
            Key=manifest["handler_code_key"],
            Body=(built / build_module.HANDLER_ZIP).read_bytes(),
        )


def _upload_template(aws, built: Path, template: str, key: str) -> None:
    """A template too big for TemplateBody, into the primary artifact bucket."""
    aws("s3").put_object(Bucket=ARTIFACTS, Key=key, Body=(built / template).read_bytes())


def _create_stack(aws, name: str, region: str, parameters: dict[str, str], **source: str) -> str:
    return aws("cloudformation", region).create_stack(
        StackName=name,
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_NAMED_IAM"],
        **source,
    )["StackId"]


def _account_stacks(aws, built: Path) -> dict[str, tuple[str, str]]:
    """The StackSet roles and the account baseline of both regions."""
    baseline = (built / build_module.ACCOUNT_BASELINE).read_text()
    return {
        build_module.STACKSET_ROLES: (
            PRIMARY,
            _create_stack(
                aws,
                "roles",
                PRIMARY,
                {},
                TemplateBody=(built / build_module.STACKSET_ROLES).read_text(),
            ),
        ),
        # Before the service templates, as deploy applies it: the region's API Gateway setting.
        build_module.ACCOUNT_BASELINE: (
            PRIMARY,
            _create_stack(aws, "baseline", PRIMARY, {}, TemplateBody=baseline),
        ),
        # And in the replica region, where the standby's stage logs too.
        f"{build_module.ACCOUNT_BASELINE} in {REPLICA}": (
            REPLICA,
            _create_stack(aws, "baseline", REPLICA, {}, TemplateBody=baseline),
        ),
    }


def _service_stacks(
    aws, built: Path, manifest: dict, domain: dict[str, str]
) -> dict[str, tuple[str, str]]:
    """Replica, primary and standby, in deploy's order, every optional resource switched on."""
    common = {names.SUFFIX_PARAM: SUFFIX, names.ALARM_EMAIL_PARAM: EMAIL}
    return {
        build_module.REPLICA: (
            REPLICA,
            _create_stack(
                aws,
                "replica",
                REPLICA,
                {**common, **_switched_on(built / build_module.REPLICA)},
                TemplateBody=(built / build_module.REPLICA).read_text(),
            ),
        ),
        build_module.PRIMARY: (
            PRIMARY,
            _create_stack(
                aws,
                "primary",
                PRIMARY,
                {
                    **common,
                    **_switched_on(built / build_module.PRIMARY),
                    **domain,
                    names.ARTIFACT_BUCKET_PARAM: ARTIFACTS,
                    names.CODE_KEY_PARAM: manifest["handler_code_key"],
                    # Any id: the alarm on the standby's check exists once deploy passes one.
                    regions_module.standby_health_check_parameter(
                        REPLICA
                    ): "00000000-0000-4000-8000-000000000000",
                },
                TemplateURL=f"https://{ARTIFACTS}.s3.{PRIMARY}.amazonaws.com/primary.json",
            ),
        ),
        # After the primary: it needs the table replica.
        build_module.STANDBY: (
            REPLICA,
            _create_stack(
                aws,
                "standby",
                REPLICA,
                {
                    names.SUFFIX_PARAM: SUFFIX,
                    **_switched_on(built / build_module.STANDBY),
                    **domain,
                    names.ARTIFACT_PREFIX_PARAM: ARTIFACT_PREFIX,
                    names.CODE_KEY_PARAM: manifest["handler_code_key"],
                },
                TemplateURL=f"https://{ARTIFACTS}.s3.{PRIMARY}.amazonaws.com/standby.json",
            ),
        ),
    }


@pytest.fixture(scope="module")
def stacks(aws, built: Path) -> dict[str, tuple[str, str]]:
    """Every built template as a plain stack (no stack sets): template file -> (region, id)."""
    manifest = json.loads((built / build_module.MANIFEST).read_text())
    _artifact_buckets(aws, built, manifest)
    _upload_template(aws, built, build_module.STANDBY, "standby.json")
    zone = aws("route53").create_hosted_zone(Name="example.com", CallerReference="emulator")
    domain = {"HostedZoneId": zone["HostedZone"]["Id"].split("/")[-1], "DomainName": DOMAIN}
    _upload_template(aws, built, build_module.PRIMARY, "primary.json")
    return {**_account_stacks(aws, built), **_service_stacks(aws, built, manifest, domain)}


def test_every_resource_type_in_the_built_templates_is_created(aws, built, stacks):
    manifest = json.loads((built / build_module.MANIFEST).read_text())
    declared = sorted(
        {t for entry in manifest["templates"].values() for t in entry["resources_by_type"]}
    )
    created: dict[str, list[str]] = defaultdict(list)
    for region, stack_id in stacks.values():
        summaries = aws("cloudformation", region).list_stack_resources(StackName=stack_id)
        for resource in summaries["StackResourceSummaries"]:
            if resource.get("ResourceType") and resource.get("PhysicalResourceId"):
                created[resource["ResourceType"]].append(resource["PhysicalResourceId"])
    missing = [t for t in declared if not created.get(t)]
    coverage = 100.0 * (len(declared) - len(missing)) / len(declared)
    covered = len(declared) - len(missing)
    print(f"\nemulator coverage: {covered}/{len(declared)} resource types ({coverage:.0f} %)")
    assert missing == [], f"types the emulator does not create: {missing}"
    # And every declared resource, not just one per type.
    for file_name, (region, stack_id) in stacks.items():
        summaries = aws("cloudformation", region).list_stack_resources(StackName=stack_id)
        created_ids = {r["LogicalResourceId"] for r in summaries["StackResourceSummaries"]}
        template_file = file_name.split(" in ")[0]  # the baseline stands in two regions
        declared_ids = set(json.loads((built / template_file).read_text())["Resources"])
        assert created_ids == declared_ids - ABSENT_BY_DESIGN.get(template_file, set()), file_name


def test_global_table_has_a_replica_in_every_region(aws, stacks):
    table = names.table(SUFFIX)
    for region in (PRIMARY, REPLICA):
        ddb = aws("dynamodb", region)
        description = ddb.describe_table(TableName=table)["Table"]
        assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert description["LatestStreamArn"].startswith(description["TableArn"])
        assert description["SSEDescription"]["KMSMasterKeyArn"].split(":")[3] == region
        backups = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    # The stream consumer is wired to the real stream (GetAtt StreamArn).
    mappings = aws("lambda").list_event_source_mappings(
        FunctionName=names.resource(SUFFIX, names.AUDIT_WRITER_FUNCTION)
    )
    stream = aws("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    assert [m["EventSourceArn"] for m in mappings["EventSourceMappings"]] == [stream]


def test_api_stage_throttle_and_a_signed_process_method(aws, stacks):
    apigw = aws("apigateway")
    api = next(
        a for a in apigw.get_rest_apis()["items"] if a["name"] == names.resource(SUFFIX, names.API)
    )
    stage = apigw.get_stage(restApiId=api["id"], stageName="prod")
    assert stage["tracingEnabled"] is True
    assert stage["accessLogSettings"]["destinationArn"].endswith(
        f"/aws/apigateway/payment-{SUFFIX}-api-access"
    )
    assert stage["methodSettings"]["*/*"]["dataTraceEnabled"] is False
    # The usage plan's throttling moved to the stage (CLIENT_AUTH.md); no key, no plan.
    assert stage["methodSettings"]["*/*"]["throttlingBurstLimit"] == 100
    assert apigw.get_api_keys()["items"] == [] and apigw.get_usage_plans()["items"] == []
    resources = {r["path"]: r["id"] for r in apigw.get_resources(restApiId=api["id"])["items"]}
    process = apigw.get_method(
        restApiId=api["id"], resourceId=resources["/process"], httpMethod="POST"
    )
    assert (process["authorizationType"], process["apiKeyRequired"]) == ("AWS_IAM", False)
    health = apigw.get_method(
        restApiId=api["id"], resourceId=resources["/health"], httpMethod="GET"
    )
    assert health["authorizationType"] == "NONE"
    assert apigw.get_account()["cloudwatchRoleArn"].startswith(f"arn:aws:iam::{ACCOUNT}:role/")


def test_alarms_topic_policy_and_subscription(aws, stacks):
    for region in (PRIMARY, REPLICA):
        alarms = aws("cloudwatch", region).describe_alarms(AlarmNamePrefix=names.prefix(SUFFIX))[
            "MetricAlarms"
        ]
        throttles = next(
            a for a in alarms if a["AlarmName"] == names.resource(SUFFIX, "table-throttles")
        )
        assert {m["Id"] for m in throttles["Metrics"]} == {"reads", "writes", "throttled"}
        topic = next(a for a in throttles["AlarmActions"])
        sns = aws("sns", region)
        policy = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
        assert [s["Sid"] for s in policy["Statement"]] == [
            "CloudWatchAlarmsOfThisAccountPublish",
            "EventBridgeRulesOfThisDeploymentPublish",
            "DenyInsecureTransport",
        ]
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", EMAIL)]
    primary_alarms = aws("cloudwatch").describe_alarms(AlarmNamePrefix=names.prefix(SUFFIX))[
        "MetricAlarms"
    ]
    assert len(primary_alarms) == 18
    # Health-check status alarms live where Route 53 publishes the metric (us-east-1): the
    # primary's own check and the standby's in us-west-2.
    health = {a["AlarmName"]: a for a in primary_alarms if a.get("Namespace") == "AWS/Route53"}
    assert set(health) == {
        names.resource(SUFFIX, "api-health"),
        names.resource(SUFFIX, f"api-health-{REPLICA}"),
    }
    standby_alarms = aws("cloudwatch", REPLICA).describe_alarms(
        AlarmNamePrefix=names.resource(SUFFIX, "api-health")
    )["MetricAlarms"]
    assert standby_alarms == []


def test_audit_bucket_settings_and_policy(aws, stacks):
    for region in (PRIMARY, REPLICA):
        s3 = aws("s3", region)
        bucket = names.audit_bucket(SUFFIX, ACCOUNT, region)
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        assert all(
            s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values()
        )
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        assert rules[0]["Transitions"][0] == {"Days": 30, "StorageClass": "GLACIER_IR"}
        lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
        # "emu" is a throw-away suffix: GOVERNANCE, so that a purge can remove it.
        retention = lock["Rule"]["DefaultRetention"]
        assert (retention["Mode"], retention["Days"]) == ("GOVERNANCE", 365)
        statement = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"][0]
        assert statement["Sid"] == "DenyInsecureTransport"
        # TLS-only denies plain HTTP in AWS; the emulator stands in for HTTPS, so access works.
        s3.put_object(Bucket=bucket, Key="payments/probe.json", Body=b"{}")


def test_tags_reach_keys_and_parameters(aws, stacks):
    kms = aws("kms", REPLICA)
    alias = next(
        a
        for a in kms.list_aliases()["Aliases"]
        if a["AliasName"] == names.key_alias(SUFFIX, "table")
    )
    tags = {
        t["TagKey"]: t["TagValue"]
        for t in kms.list_resource_tags(KeyId=alias["TargetKeyId"])["Tags"]
    }
    assert tags["EnvironmentSuffix"] == SUFFIX and tags["Project"] == "payment-infrastructure"
    ssm = aws("ssm", REPLICA)
    parameter = ssm.get_parameter(Name=f"/payment/{SUFFIX}/table-name")["Parameter"]
    assert parameter["Value"] == names.table(SUFFIX)
    tag_list = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=parameter["Name"])[
        "TagList"
    ]
    assert {"Key": "ManagedBy", "Value": "troposphere"} in tag_list


def test_deleting_the_primary_stack_removes_what_it_owns_and_keeps_retained_data(aws, stacks):
    region, stack_id = stacks[build_module.PRIMARY]
    aws("cloudformation", region).delete_stack(StackName=stack_id)

    assert aws("apigateway").get_rest_apis()["items"] == []
    assert (
        aws("cloudwatch").describe_alarms(AlarmNamePrefix=names.prefix(SUFFIX))["MetricAlarms"]
        == []
    )
    checks = aws("route53").list_health_checks()["HealthChecks"]
    hosts = [c["HealthCheckConfig"]["FullyQualifiedDomainName"] for c in checks]
    assert [h for h in hosts if f".{PRIMARY}." in h] == []  # the standby's stays with its stack
    assert len(hosts) == 1
    assert aws("lambda").list_functions()["Functions"] == []
    # Retained: the table in every region, the bucket with its policy, the keys.
    for table_region in (PRIMARY, REPLICA):
        aws("dynamodb", table_region).describe_table(TableName=names.table(SUFFIX))
    bucket = names.audit_bucket(SUFFIX, ACCOUNT, PRIMARY)
    assert aws("s3").get_bucket_policy(Bucket=bucket)["Policy"]
    keys = [k for k in aws("kms").list_keys()["Keys"]]
    assert len(keys) == 3


def test_stack_set_update_reaches_the_instance_stacks_and_failures_name_the_region(aws):
    cfn = aws("cloudformation")

    def template(value: str) -> str:
        return json.dumps(
            {
                "Resources": {
                    "Flag": {
                        "Type": "AWS::SSM::Parameter",
                        "Properties": {
                            "Name": "/payment/probe/flag",
                            "Type": "String",
                            "Value": value,
                        },
                    }
                },
            }
        )

    cfn.create_stack_set(StackSetName="probe", TemplateBody=template("one"))
    created = cfn.create_stack_instances(
        StackSetName="probe", Accounts=[ACCOUNT], Regions=[PRIMARY, REPLICA]
    )
    operation_outcome(cfn, "probe", created["OperationId"])  # one operation at a time
    updated = cfn.update_stack_set(StackSetName="probe", TemplateBody=template("two"))
    operation_outcome(cfn, "probe", updated["OperationId"])
    for region in (PRIMARY, REPLICA):
        assert (
            aws("ssm", region).get_parameter(Name="/payment/probe/flag")["Parameter"]["Value"]
            == "two"
        )

    # A resource the emulator rejects (the parameter already exists outside the stack).
    aws("ssm", "eu-west-1").put_parameter(Name="/payment/probe/flag", Value="taken", Type="String")
    operation = cfn.create_stack_instances(
        StackSetName="probe", Accounts=[ACCOUNT], Regions=["eu-west-1"]
    )
    assert operation_outcome(cfn, "probe", operation["OperationId"])["Status"] == "FAILED"
    results = cfn.list_stack_set_operation_results(
        StackSetName="probe", OperationId=operation["OperationId"]
    )
    [failed] = results["Summaries"]
    assert failed["Region"] == "eu-west-1" and failed["Status"] == "FAILED"
    assert "already exists" in failed["StatusReason"].lower()
    instance = cfn.describe_stack_instance(
        StackSetName="probe", StackInstanceAccount=ACCOUNT, StackInstanceRegion="eu-west-1"
    )
    assert instance["StackInstance"]["Status"] == "OUTDATED"
    names = [s["StackName"] for s in aws("cloudformation", PRIMARY).describe_stacks()["Stacks"]]
    assert any(re.match(r"^StackSet-probe-[0-9a-f-]{36}$", n) for n in names)


def test_a_parameter_without_a_name_gets_a_generated_one(aws):
    template = {
        "Resources": {
            "Unnamed": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Type": "String", "Value": "v"},
            }
        },
    }
    cfn = aws("cloudformation", "eu-central-1")
    cfn.create_stack(StackName="unnamed", TemplateBody=json.dumps(template))
    [resource] = cfn.list_stack_resources(StackName="unnamed")["StackResourceSummaries"]
    parameter = aws("ssm", "eu-central-1").get_parameter(Name=resource["PhysicalResourceId"])
    assert parameter["Parameter"]["Value"] == "v"


def test_a_missing_replica_key_fails_the_table_and_leaves_no_table_anywhere(aws):
    """The primary deployed before its replica region's keys: CloudFormation refuses the table,
    and no half-made table stays behind in either region."""
    template = {
        "Resources": {
            "Payments": {
                "Type": "AWS::DynamoDB::GlobalTable",
                "Properties": {
                    "TableName": "orphan-check",
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                    "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
                    "Replicas": [
                        {"Region": "ap-south-1"},
                        {
                            "Region": "ap-southeast-2",
                            "SSESpecification": {
                                "KMSMasterKeyId": f"arn:aws:kms:ap-southeast-2:{ACCOUNT}:"
                                "alias/no-such-key"
                            },
                        },
                    ],
                },
            }
        }
    }
    cfn = aws("cloudformation", "ap-south-1")
    try:
        cfn.create_stack(StackName="orphan-check", TemplateBody=json.dumps(template))
    except ClientError as error:
        assert "does not exist in ap-southeast-2" in str(error)
    for region in ("ap-south-1", "ap-southeast-2"):
        assert "orphan-check" not in aws("dynamodb", region).list_tables()["TableNames"]


def test_local_aws_script_prints_ready_and_serves():
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "local_aws.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().strip()
        match = re.fullmatch(r"ready: (http://127\.0\.0\.1:\d+)", line)
        assert match, line
        sts = boto3.client(
            "sts",
            region_name=PRIMARY,
            endpoint_url=match.group(1),
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        assert sts.get_caller_identity()["Account"] == ACCOUNT
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_local_aws_script_stops_on_sigint_even_when_started_as_a_background_job():
    # A shell starts background jobs with SIGINT ignored; Ctrl-C / kill -INT must still stop it.
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "local_aws.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert process.stdout.readline().startswith("ready: ")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_local_aws_script_on_a_busy_port_exits_2_with_one_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "local_aws.py"), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
