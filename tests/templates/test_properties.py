"""Targeted assertions on what matters in the generated templates.

The golden files pin every byte; these tests say *why* a property must hold, so that a
deliberate golden refresh cannot silently drop encryption, retention or least privilege.
"""

from __future__ import annotations

import json
import re

import pytest

from templates_src.build import render
from templates_src.config import Config
from templates_src.regions import build_primary, build_replica, build_standby
from templates_src.stackset_roles import build_stackset_roles

from .conftest import of_type

STATEFUL = ("AWS::DynamoDB::GlobalTable", "AWS::S3::Bucket", "AWS::KMS::Key")
REQUIRED_TAGS = {"Environment", "EnvironmentSuffix", "ManagedBy", "Project"}


def _walk(node):
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _statements(role: dict) -> list[dict]:
    return [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


# --- the table ------------------------------------------------------------------------------


def test_global_table_has_a_replica_per_region_with_pitr_protection_and_own_region_key(primary):
    (table,) = of_type(primary, "AWS::DynamoDB::GlobalTable").values()
    replicas = table["Properties"]["Replicas"]
    assert [r["Region"] for r in replicas] == [{"Ref": "AWS::Region"}, "us-west-2"]
    for replica in replicas:
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert replica["DeletionProtectionEnabled"] is True
    assert replicas[0]["SSESpecification"]["KMSMasterKeyId"] == {"Fn::GetAtt": ["TableKey", "Arn"]}
    text, variables = replicas[1]["SSESpecification"]["KMSMasterKeyId"]["Fn::Sub"]
    assert text == (
        "arn:${AWS::Partition}:kms:${TargetRegion}:${AWS::AccountId}:"
        "alias/payment-${EnvironmentSuffix}-table"
    )
    assert variables == {"TargetRegion": "us-west-2"}


def test_table_key_is_payment_id_alone_for_single_write_idempotency(primary):
    (table,) = of_type(primary, "AWS::DynamoDB::GlobalTable").values()
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "payment_id", "KeyType": "HASH"}]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    indexes = {
        i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]]
        for i in props["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        "status-index": ["status", "created_at"],
        "customer-index": ["customer_id", "created_at"],
    }


def test_two_replica_regions_give_three_table_replicas():
    config = Config(replica_regions=("us-west-2", "eu-west-1"))
    template = json.loads(render(build_primary(config)))
    (table,) = of_type(template, "AWS::DynamoDB::GlobalTable").values()
    assert [r["Region"] for r in table["Properties"]["Replicas"]] == [
        {"Ref": "AWS::Region"},
        "us-west-2",
        "eu-west-1",
    ]
    latency_alarms = [
        a
        for a in of_type(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "ReplicationLatency"
    ]
    receiving = sorted(
        d["Value"]
        for a in latency_alarms
        for d in a["Properties"]["Dimensions"]
        if d["Name"] == "ReceivingRegion"
    )
    assert receiving == ["eu-west-1", "us-west-2"]


def test_replica_template_never_declares_a_table(replica):
    types = {r["Type"] for r in replica["Resources"].values()}
    assert not any(t.startswith("AWS::DynamoDB::") for t in types)


# --- retention and encryption ---------------------------------------------------------------


@pytest.mark.parametrize("which", ["primary", "replica"])
def test_stateful_resources_are_retained(which, request):
    template = request.getfixturevalue(which)
    stateful = [r for r in template["Resources"].values() if r["Type"] in STATEFUL]
    assert stateful
    for resource in stateful:
        # Kept on delete and replacement; gone only if the creation that made it rolls back.
        assert resource["DeletionPolicy"] == "RetainExceptOnCreate"
        assert resource["UpdateReplacePolicy"] == "Retain"


@pytest.mark.parametrize("which", ["primary", "replica"])
def test_keys_rotate_have_aliases_and_a_ten_day_window(which, request):
    template = request.getfixturevalue(which)
    keys = of_type(template, "AWS::KMS::Key")
    assert set(keys) == {"TableKey", "AuditKey", "AppKey"}
    for key in keys.values():
        assert key["Properties"]["EnableKeyRotation"] is True
        assert key["Properties"]["PendingWindowInDays"] == 10
        for statement in key["Properties"]["KeyPolicy"]["Statement"]:
            assert statement["Principal"] != "*" and statement["Principal"] != {"AWS": "*"}
    aliases = sorted(
        a["Properties"]["AliasName"]["Fn::Sub"]
        for a in of_type(template, "AWS::KMS::Alias").values()
    )
    assert aliases == [
        f"alias/payment-${{EnvironmentSuffix}}-{u}" for u in ("app", "audit", "table")
    ]


@pytest.mark.parametrize("which", ["primary", "replica"])
def test_audit_bucket_is_private_versioned_kms_encrypted_and_tls_only(which, request):
    template = request.getfixturevalue(which)
    bucket = template["Resources"]["AuditBucket"]
    props = bucket["Properties"]
    assert props["BucketName"] == {
        "Fn::Sub": "payment-${EnvironmentSuffix}-audit-${AWS::AccountId}-${AWS::Region}"
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {
        "Fn::GetAtt": ["AuditKey", "Arn"]
    }
    assert rule["BucketKeyEnabled"] is True
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    (lifecycle,) = props["LifecycleConfiguration"]["Rules"]
    assert lifecycle["Transitions"] == [{"StorageClass": "GLACIER_IR", "TransitionInDays": 30}]
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogBucket"}
    for policy in of_type(template, "AWS::S3::BucketPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        deny = [s for s in statements if s["Effect"] == "Deny"]
        assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": False}} for s in deny)


def test_everything_that_can_be_encrypted_uses_a_customer_managed_key(primary):
    def uses_cmk(value) -> bool:
        return value in ({"Fn::GetAtt": ["AppKey", "Arn"]}, {"Fn::GetAtt": ["AuditKey", "Arn"]})

    for group in of_type(primary, "AWS::Logs::LogGroup").values():
        assert uses_cmk(group["Properties"]["KmsKeyId"])
    for topic in of_type(primary, "AWS::SNS::Topic").values():
        assert uses_cmk(topic["Properties"]["KmsMasterKeyId"])
    for queue in of_type(primary, "AWS::SQS::Queue").values():
        assert uses_cmk(queue["Properties"]["KmsMasterKeyId"])
    for function in of_type(primary, "AWS::Lambda::Function").values():
        assert uses_cmk(function["Properties"]["KmsKeyArn"])
    for secret in of_type(primary, "AWS::SecretsManager::Secret").values():
        assert uses_cmk(secret["Properties"]["KmsKeyId"])


# --- API ----------------------------------------------------------------------------------


def test_health_is_open_and_process_needs_a_signature(primary):
    resources = primary["Resources"]
    methods = {
        resources[m["Properties"]["ResourceId"]["Ref"]]["Properties"]["PathPart"]
        + " "
        + m["Properties"]["HttpMethod"]: m["Properties"]
        for m in of_type(primary, "AWS::ApiGateway::Method").values()
    }
    assert set(methods) == {"process POST", "health GET"}
    assert methods["process POST"]["AuthorizationType"] == "AWS_IAM"
    assert methods["health GET"]["AuthorizationType"] == "NONE"
    assert all(m["ApiKeyRequired"] is False for m in methods.values())
    for method in methods.values():
        assert method["Integration"]["Type"] == "AWS_PROXY"
    (check,) = of_type(primary, "AWS::Route53::HealthCheck").values()
    config = check["Properties"]["HealthCheckConfig"]
    assert (config["Type"], config["ResourcePath"], config["Port"]) == (
        "HTTPS",
        "/prod/health",
        443,
    )
    assert (config["FailureThreshold"], config["RequestInterval"]) == (3, 30)


@pytest.mark.parametrize("which", ["primary", "replica", "standby"])
def test_no_secret_in_outputs_parameters_or_ssm(which, request):
    template = request.getfixturevalue(which)
    everything_public = json.dumps(
        [
            template.get("Outputs", {}),
            template.get("Parameters", {}),
            [p for p in of_type(template, "AWS::SSM::Parameter").values()],
        ]
    )
    assert "resolve:secretsmanager" not in everything_public
    assert "SecretString" not in everything_public
    for param in of_type(template, "AWS::SSM::Parameter").values():
        assert param["Properties"]["Type"] == "String"


def test_deployment_logical_id_follows_the_api_definition():
    base = json.loads(render(build_primary(Config())))
    other = json.loads(render(build_primary(Config(replica_regions=("eu-west-1",)))))
    deployments = [n for n in base["Resources"] if n.startswith("ApiDeployment")]
    assert len(deployments) == 1 and re.fullmatch(r"ApiDeployment[0-9A-F]{10}", deployments[0])
    # Replica regions do not change the API, so the deployment is the same resource.
    assert deployments[0] in other["Resources"]


def test_invoke_permissions_are_scoped_to_their_route(primary):
    arns = sorted(
        p["Properties"]["SourceArn"]["Fn::Sub"]
        for p in of_type(primary, "AWS::Lambda::Permission").values()
    )
    prefix = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${PaymentApi}"
    assert arns == [f"{prefix}/prod/GET/health", f"{prefix}/prod/POST/process"]


# --- functions ------------------------------------------------------------------------------


def test_functions_follow_the_specified_defaults(primary):
    functions = of_type(primary, "AWS::Lambda::Function")
    handlers = {f["Properties"]["Handler"] for f in functions.values()}
    assert handlers == {"handler.app.lambda_handler", "handler.audit.lambda_handler"}
    for function in functions.values():
        props = function["Properties"]
        assert (props["MemorySize"], props["Timeout"]) == (512, 60)
        assert props["Runtime"] == "python3.12"
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Code"] == {
            "S3Bucket": {"Ref": "ArtifactBucketName"},
            "S3Key": {"Ref": "HandlerCodeKey"},
        }
        env = props["Environment"]["Variables"]
        assert {"TABLE_NAME", "AUDIT_BUCKET", "ENVIRONMENT_SUFFIX"} <= set(env)


def test_stream_mapping_reports_item_failures_and_has_a_failure_destination(primary):
    (mapping,) = of_type(primary, "AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["PaymentsTable", "StreamArn"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert 0 < props["MaximumRetryAttempts"] <= 10
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["AuditFailureQueue", "Arn"]
    }


# --- IAM ------------------------------------------------------------------------------------


# Actions that have no resource-level permissions in IAM: "*" is the narrowest resource.
NO_RESOURCE_LEVEL = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "dynamodb:ListStreams",
    "logs:DescribeLogGroups",
}


def test_roles_have_no_wildcard_action_and_star_only_where_iam_offers_nothing_narrower(primary):
    for role in of_type(primary, "AWS::IAM::Role").values():
        for statement in _statements(role):
            for action in statement["Action"]:
                assert "*" not in action, (role["Properties"]["RoleName"], action)
            if "*" in statement["Resource"]:
                assert set(statement["Action"]) <= NO_RESOURCE_LEVEL, statement


def test_processor_can_write_only_the_table_and_audit_writer_only_its_prefix(primary):
    processor = {s["Sid"]: s for s in _statements(primary["Resources"]["ProcessorRole"])}
    assert processor["OneConditionalWritePerPayment"]["Action"] == [
        "dynamodb:PutItem",
        "dynamodb:GetItem",
    ]
    assert processor["OneConditionalWritePerPayment"]["Resource"] == [
        {"Fn::GetAtt": ["PaymentsTable", "Arn"]}
    ]
    assert not any(a.startswith("s3:") for s in processor.values() for a in s["Action"])
    writer = {s["Sid"]: s for s in _statements(primary["Resources"]["AuditWriterRole"])}
    assert writer["WriteAuditObjects"]["Action"] == ["s3:PutObject"]
    assert writer["WriteAuditObjects"]["Resource"] == [
        {"Fn::Sub": ["${Bucket}/payments/*", {"Bucket": {"Fn::GetAtt": ["AuditBucket", "Arn"]}}]}
    ]
    assert not any(a.startswith("dynamodb:Put") for s in writer.values() for a in s["Action"])


def test_no_hand_typed_account_or_partition_in_any_arn():
    for template in (
        build_primary(Config()),
        build_replica(Config()),
        build_standby(Config()),
        build_stackset_roles(Config()),
    ):
        text = render(template)
        assert not re.search(r"arn:aws[:-]", text)
        assert not re.search(r"\b\d{12}\b", text)


# --- tags and console -----------------------------------------------------------------------


def _taggable(template: dict):
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if "Tags" in props or "HealthCheckTags" in props:
            yield name, props.get("Tags", props.get("HealthCheckTags"))


@pytest.mark.parametrize("which", ["primary", "replica", "standby"])
def test_every_taggable_resource_carries_the_contract_tags(which, request):
    template = request.getfixturevalue(which)
    untagged_types = {
        # These types take no Tags property in CloudFormation.
        "AWS::KMS::Alias",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::Logs::MetricFilter",
        "AWS::SNS::Subscription",
        "AWS::ApiGateway::Resource",
        "AWS::ApiGateway::Method",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::Account",
        "AWS::ApiGateway::UsagePlanKey",
        "AWS::Lambda::Permission",
        "AWS::ApiGateway::Model",
        "AWS::ApiGateway::RequestValidator",
        "AWS::ApiGateway::GatewayResponse",
        "AWS::WAFv2::WebACLAssociation",
        "AWS::WAFv2::LoggingConfiguration",
        "AWS::ApiGateway::BasePathMapping",
        "AWS::Route53::RecordSet",
        "Custom::TableStream",
    }
    tagged = dict(_taggable(template))
    for name, resource in template["Resources"].items():
        if resource["Type"] in untagged_types:
            continue
        if resource["Type"] == "AWS::DynamoDB::GlobalTable":
            for replica in resource["Properties"]["Replicas"]:
                assert REQUIRED_TAGS <= {t["Key"] for t in replica["Tags"]}
            continue
        assert name in tagged, f"{name} ({resource['Type']}) has no tags"
        tags = tagged[name]
        keys = set(tags) if isinstance(tags, dict) else {t["Key"] for t in tags}
        assert REQUIRED_TAGS <= keys, name


@pytest.mark.parametrize("which", ["primary", "replica", "standby"])
def test_parameters_are_described_constrained_and_grouped(which, request):
    template = request.getfixturevalue(which)
    interface = template["Metadata"]["AWS::CloudFormation::Interface"]
    grouped = {p for g in interface["ParameterGroups"] for p in g["Parameters"]}
    assert grouped == set(template["Parameters"])
    assert set(interface["ParameterLabels"]) == set(template["Parameters"])
    for parameter in template["Parameters"].values():
        assert parameter["Description"] and parameter["ConstraintDescription"]
        constrained = {"AllowedPattern", "AllowedValues", "MinValue"} & set(parameter)
        assert constrained, parameter


def test_suffix_parameter_defaults_to_the_configured_suffix():
    template = json.loads(render(build_replica(Config(environment_suffix="qa-7"))))
    assert template["Parameters"]["EnvironmentSuffix"]["Default"] == "qa-7"
    assert re.fullmatch(template["Parameters"]["EnvironmentSuffix"]["AllowedPattern"], "qa-7")
