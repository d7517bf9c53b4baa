"""The emulator refuses what CloudFormation refuses: parameter constraints, conditional
resources on update, stack set names and concurrent operations, one replica (or one index) per
global table update. Each test is one AWS rule; a refused call changes nothing."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from .conftest import ACCOUNT, PRIMARY, REPLICA

pytestmark = pytest.mark.integration


def _parameters(**values: str) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def _topic_template(**declared: dict) -> str:
    """One SNS topic named after parameter ``Value``, declared as given."""
    return json.dumps(
        {
            "Parameters": {"Value": {"Type": "String", **declared}},
            "Resources": {
                "Topic": {
                    "Type": "AWS::SNS::Topic",
                    "Properties": {"TopicName": {"Fn::Sub": "rules-${Value}"}},
                }
            },
        }
    )


def _topics(aws) -> list[str]:
    return [t["TopicArn"].rsplit(":", 1)[1] for t in aws("sns").list_topics()["Topics"]]


# --- parameter constraints -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "value", "message"),
    [
        ({"AllowedPattern": "^[a-z]+$"}, "abc1", "Parameter 'Value' must match pattern ^[a-z]+$"),
        # The whole value: "$" before a trailing newline is no match for CloudFormation.
        ({"AllowedPattern": "^[a-z]+$"}, "abc\n", "must match pattern"),
        ({"AllowedPattern": "[a-z]+"}, "abc-def", "must match pattern [a-z]+"),
        ({"AllowedValues": ["a", "b"]}, "c", "Parameter 'Value' must be one of AllowedValues"),
        ({"MinLength": 3}, "ab", "must contain at least 3 characters"),
        ({"MaxLength": 3}, "abcd", "must contain at most 3 characters"),
        ({"Type": "Number"}, "ten", "Parameter 'Value' must be a number"),
        ({"Type": "Number", "MinValue": 1}, "0", "must be a number not less than 1"),
        ({"Type": "Number", "MaxValue": 100}, "101", "must be a number not greater than 100"),
        (
            {"AllowedPattern": "^[a-z]+$", "ConstraintDescription": "lower-case letters"},
            "ABC",
            "Parameter 'Value' failed to satisfy constraint: lower-case letters",
        ),
    ],
)
def test_a_value_that_breaks_its_parameter_declaration_refuses_the_stack(
    aws, declared, value, message
):
    cfn = aws("cloudformation")
    with pytest.raises(ClientError, match="ValidationError") as refused:
        cfn.create_stack(
            StackName="rules-parameter",
            TemplateBody=_topic_template(**declared),
            Parameters=_parameters(Value=value),
        )
    assert message in str(refused.value)
    assert "rules-parameter" not in [s["StackName"] for s in cfn.list_stacks()["StackSummaries"]]
    assert not [t for t in _topics(aws) if t.startswith("rules-")]


def test_a_default_that_breaks_the_declaration_refuses_the_stack_too(aws):
    with pytest.raises(ClientError, match="must match pattern"):
        aws("cloudformation").create_stack(
            StackName="rules-default",
            TemplateBody=_topic_template(AllowedPattern="^[a-z]+$", Default="Nope"),
        )


def test_a_value_within_every_constraint_is_accepted(aws):
    declared = {"AllowedPattern": "^[a-z]+$", "MinLength": 2, "MaxLength": 5}
    cfn = aws("cloudformation")
    cfn.create_stack(
        StackName="rules-valid",
        TemplateBody=_topic_template(**declared),
        Parameters=_parameters(Value="ok"),
    )
    assert "rules-ok" in _topics(aws)
    cfn.delete_stack(StackName="rules-valid")


def test_an_update_with_a_value_that_breaks_the_declaration_changes_nothing(aws):
    cfn = aws("cloudformation")
    template = _topic_template(AllowedPattern="^[a-z]+$")
    cfn.create_stack(
        StackName="rules-update", TemplateBody=template, Parameters=_parameters(Value="before")
    )

    with pytest.raises(ClientError, match="must match pattern"):
        cfn.update_stack(
            StackName="rules-update", TemplateBody=template, Parameters=_parameters(Value="AFTER")
        )

    assert "rules-before" in _topics(aws) and "rules-AFTER" not in _topics(aws)
    stack = cfn.describe_stacks(StackName="rules-update")["Stacks"][0]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {
        "Value": "before"
    }
    cfn.delete_stack(StackName="rules-update")


def test_a_stack_set_instance_with_a_bad_value_fails_naming_the_parameter(aws):
    cfn = aws("cloudformation")
    cfn.create_stack_set(
        StackSetName="rules-set-parameter",
        TemplateBody=_topic_template(AllowedPattern="^[a-z]{1,4}$"),
        Parameters=_parameters(Value="toolong"),
    )
    operation = cfn.create_stack_instances(
        StackSetName="rules-set-parameter", Accounts=[ACCOUNT], Regions=[REPLICA]
    )["OperationId"]
    results = cfn.list_stack_set_operation_results(
        StackSetName="rules-set-parameter", OperationId=operation
    )["Summaries"]
    assert [r["Status"] for r in results] == ["FAILED"]
    assert "Parameter 'Value' must match pattern" in results[0]["StatusReason"]
    assert not [t for t in _topics(aws) if t.startswith("rules-")]


# --- conditional resources on update ---------------------------------------------------------


CONDITIONAL = json.dumps(
    {
        "Parameters": {
            "Wanted": {"Type": "String", "Default": "", "AllowedPattern": "^$|^[a-z]+$"},
        },
        "Conditions": {
            "InPrimaryRegion": {"Fn::Equals": [{"Ref": "AWS::Region"}, PRIMARY]},
            "Make": {
                "Fn::And": [
                    {"Condition": "InPrimaryRegion"},
                    {"Fn::Not": [{"Fn::Equals": [{"Ref": "Wanted"}, ""]}]},
                ]
            },
        },
        "Resources": {
            "Always": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "rules-always"}},
            "Sometimes": {
                "Type": "AWS::SNS::Topic",
                "Condition": "Make",
                "Properties": {"TopicName": {"Fn::Sub": "rules-sometimes-${Wanted}"}},
            },
        },
    }
)


def test_an_update_leaves_a_resource_whose_condition_stays_false_uncreated(aws):
    # The primary in us-west-2: its alarm on a standby health check exists in us-east-1 only,
    # and the health-check handoff changes the parameter that alarm reads.
    template = json.loads(CONDITIONAL)
    template["Resources"]["Sometimes"] = {
        "Type": "AWS::CloudWatch::Alarm",
        "Condition": "Make",
        "Properties": {
            "AlarmName": "rules-health",
            "Namespace": "AWS/Route53",
            "MetricName": "HealthCheckStatus",
            "Dimensions": [{"Name": "HealthCheckId", "Value": {"Ref": "Wanted"}}],
            "Statistic": "Minimum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": "LessThanThreshold",
        },
    }
    cfn = aws("cloudformation", REPLICA)
    cfn.create_stack(StackName="rules-condition-false", TemplateBody=json.dumps(template))

    cfn.update_stack(
        StackName="rules-condition-false",
        TemplateBody=json.dumps(template),
        Parameters=_parameters(Wanted="check"),
    )

    stack = cfn.describe_stacks(StackName="rules-condition-false")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    resources = cfn.list_stack_resources(StackName="rules-condition-false")
    assert [r["LogicalResourceId"] for r in resources["StackResourceSummaries"]] == ["Always"]
    cfn.delete_stack(StackName="rules-condition-false")


def test_an_update_creates_then_deletes_a_resource_as_its_condition_turns(aws):
    cfn = aws("cloudformation")
    cfn.create_stack(StackName="rules-condition-turns", TemplateBody=CONDITIONAL)
    assert "rules-sometimes-now" not in _topics(aws)

    cfn.update_stack(
        StackName="rules-condition-turns",
        TemplateBody=CONDITIONAL,
        Parameters=_parameters(Wanted="now"),
    )
    assert "rules-sometimes-now" in _topics(aws)

    cfn.update_stack(
        StackName="rules-condition-turns",
        TemplateBody=CONDITIONAL,
        Parameters=_parameters(Wanted=""),
    )
    assert "rules-sometimes-now" not in _topics(aws)
    resources = cfn.list_stack_resources(StackName="rules-condition-turns")
    assert [r["LogicalResourceId"] for r in resources["StackResourceSummaries"]] == ["Always"]
    cfn.delete_stack(StackName="rules-condition-turns")


# --- stack sets: one per name, one operation at a time -----------------------------------------


def _ssm_template(value: str) -> str:
    return json.dumps(
        {
            "Resources": {
                "Flag": {
                    "Type": "AWS::SSM::Parameter",
                    "Properties": {"Name": "/rules/serial", "Type": "String", "Value": value},
                }
            }
        }
    )


def test_creating_a_stack_set_with_a_name_in_use_fails_name_already_exists(aws):
    cfn = aws("cloudformation")
    cfn.create_stack_set(StackSetName="rules-name", TemplateBody=_ssm_template("one"))

    with pytest.raises(ClientError) as refused:
        cfn.create_stack_set(StackSetName="rules-name", TemplateBody=_ssm_template("two"))

    assert refused.value.response["Error"]["Code"] == "NameAlreadyExistsException"
    held = cfn.describe_stack_set(StackSetName="rules-name")["StackSet"]
    assert json.loads(held["TemplateBody"]) == json.loads(_ssm_template("one"))


def test_a_second_operation_while_one_runs_fails_operation_in_progress(aws):
    cfn = aws("cloudformation")
    cfn.create_stack_set(StackSetName="rules-serial", TemplateBody=_ssm_template("one"))
    first = cfn.create_stack_instances(
        StackSetName="rules-serial", Accounts=[ACCOUNT], Regions=[PRIMARY]
    )["OperationId"]
    listed = cfn.list_stack_set_operations(StackSetName="rules-serial")["Summaries"]
    assert [(o["OperationId"], o["Status"]) for o in listed] == [(first, "RUNNING")]

    for start in (
        lambda: cfn.update_stack_set(StackSetName="rules-serial", TemplateBody=_ssm_template("2")),
        lambda: cfn.create_stack_instances(
            StackSetName="rules-serial", Accounts=[ACCOUNT], Regions=[REPLICA]
        ),
        lambda: cfn.delete_stack_instances(
            StackSetName="rules-serial", Accounts=[ACCOUNT], Regions=[PRIMARY], RetainStacks=False
        ),
        lambda: cfn.delete_stack_set(StackSetName="rules-serial"),
    ):
        with pytest.raises(ClientError) as refused:
            start()
        assert refused.value.response["Error"]["Code"] == "OperationInProgressException"

    # The poll that learns the outcome sees it running; the next one sees it done.
    describe = cfn.describe_stack_set_operation
    assert (
        describe(StackSetName="rules-serial", OperationId=first)["StackSetOperation"]["Status"]
        == "RUNNING"
    )
    assert (
        describe(StackSetName="rules-serial", OperationId=first)["StackSetOperation"]["Status"]
        == "SUCCEEDED"
    )
    second = cfn.update_stack_set(StackSetName="rules-serial", TemplateBody=_ssm_template("two"))
    assert second["OperationId"] != first
    assert aws("ssm").get_parameter(Name="/rules/serial")["Parameter"]["Value"] == "two"


# --- global tables: one replica (or one index) per update --------------------------------------

EXTRA = "eu-west-1"


def _global_table(regions: list[str], indexes: tuple[str, ...] = (), tag: str = "a") -> str:
    attributes = [{"AttributeName": "id", "AttributeType": "S"}]
    attributes += [{"AttributeName": name, "AttributeType": "S"} for name in indexes]
    return json.dumps(
        {
            "Resources": {
                "Table": {
                    "Type": "AWS::DynamoDB::GlobalTable",
                    "Properties": {
                        "TableName": "rules-global",
                        "BillingMode": "PAY_PER_REQUEST",
                        "AttributeDefinitions": attributes,
                        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                        "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
                        "GlobalSecondaryIndexes": [
                            {
                                "IndexName": name,
                                "KeySchema": [{"AttributeName": name, "KeyType": "HASH"}],
                                "Projection": {"ProjectionType": "KEYS_ONLY"},
                            }
                            for name in indexes
                        ],
                        "Replicas": [
                            {"Region": region, "Tags": [{"Key": "t", "Value": tag}]}
                            for region in regions
                        ],
                    },
                }
            }
        }
    )


def _replica_regions(aws) -> set[str]:
    found = set()
    for region in (PRIMARY, REPLICA, EXTRA):
        try:
            aws("dynamodb", region).describe_table(TableName="rules-global")
            found.add(region)
        except ClientError:
            pass
    return found


@pytest.fixture
def global_table(aws):
    cfn = aws("cloudformation")
    cfn.create_stack(StackName="rules-global", TemplateBody=_global_table([PRIMARY]))
    yield cfn
    cfn.delete_stack(StackName="rules-global")


def test_adding_two_replicas_in_one_update_fails_and_adds_none(aws, global_table):
    with pytest.raises(ClientError, match="only add or remove a single replica in each update"):
        global_table.update_stack(
            StackName="rules-global", TemplateBody=_global_table([PRIMARY, REPLICA, EXTRA])
        )
    assert _replica_regions(aws) == {PRIMARY}


def test_a_replica_added_with_another_change_fails(aws, global_table):
    with pytest.raises(ClientError, match="must be the only change of its update"):
        global_table.update_stack(
            StackName="rules-global", TemplateBody=_global_table([PRIMARY, REPLICA], tag="b")
        )
    assert _replica_regions(aws) == {PRIMARY}


def test_one_replica_at_a_time_is_accepted_both_ways(aws, global_table):
    global_table.update_stack(
        StackName="rules-global", TemplateBody=_global_table([PRIMARY, REPLICA])
    )
    global_table.update_stack(
        StackName="rules-global", TemplateBody=_global_table([PRIMARY, REPLICA, EXTRA])
    )
    assert _replica_regions(aws) == {PRIMARY, REPLICA, EXTRA}
    global_table.update_stack(
        StackName="rules-global", TemplateBody=_global_table([PRIMARY, EXTRA])
    )
    assert _replica_regions(aws) == {PRIMARY, EXTRA}


def test_two_global_secondary_indexes_in_one_update_fail(global_table):
    with pytest.raises(ClientError, match="more than one GSI creation or deletion"):
        global_table.update_stack(
            StackName="rules-global",
            TemplateBody=_global_table([PRIMARY], indexes=("by_customer", "by_status")),
        )


# --- API Gateway logging needs the account's CloudWatch role -------------------------------


def _logging_stage_template(with_account_setting: bool) -> str:
    resources: dict = {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "rules-logging"}},
        "Health": {
            "Type": "AWS::ApiGateway::Method",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "ResourceId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
                "HttpMethod": "GET",
                "AuthorizationType": "NONE",
                "Integration": {"Type": "MOCK", "IntegrationHttpMethod": "GET", "Uri": ""},
            },
        },
        "Deployment": {
            "Type": "AWS::ApiGateway::Deployment",
            "DependsOn": ["Health"],
            "Properties": {"RestApiId": {"Ref": "Api"}},
        },
        "Stage": {
            "Type": "AWS::ApiGateway::Stage",
            "Properties": {
                "RestApiId": {"Ref": "Api"},
                "DeploymentId": {"Ref": "Deployment"},
                "StageName": "prod",
                "MethodSettings": [
                    {"ResourcePath": "/*", "HttpMethod": "*", "LoggingLevel": "ERROR"}
                ],
            },
        },
    }
    if with_account_setting:
        resources["Account"] = {
            "Type": "AWS::ApiGateway::Account",
            "Properties": {"CloudWatchRoleArn": f"arn:aws:iam::{ACCOUNT}:role/rules-logs"},
        }
        resources["Stage"]["DependsOn"] = ["Account"]
    return json.dumps({"Resources": resources})


def test_a_stage_that_logs_without_the_accounts_cloudwatch_role_fails(aws):
    # A region of its own: no earlier test has set the account's logging role there.
    cfn = aws("cloudformation", "eu-north-1")
    with pytest.raises(ClientError, match="CloudWatch Logs role ARN must be set in account"):
        cfn.create_stack(StackName="rules-logging", TemplateBody=_logging_stage_template(False))

    cfn.create_stack(StackName="rules-logging-ok", TemplateBody=_logging_stage_template(True))
    ok = cfn.describe_stacks(StackName="rules-logging-ok")["Stacks"][0]
    assert ok["StackStatus"] == "CREATE_COMPLETE"
