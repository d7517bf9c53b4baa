"""The one reference graph and condition evaluator the review, the plan, the emulator and the
security gate read templates with: small hand-written templates for each form an intrinsic can
take (User Guide, "Intrinsic function reference"), and the built primary template."""

from __future__ import annotations

import json
from typing import Any

import pytest

from templates_src import cfn_graph
from templates_src.cfn_graph import (
    CONDITIONS,
    OUTPUTS,
    PARAMETERS,
    PSEUDO_PARAMETERS,
    RESOURCES,
    Conditions,
    Node,
    ReferenceGraph,
    get_att_parts,
    intrinsic_targets,
    sub_parts,
)

from .conftest import of_type

TEMPLATE = {
    "Parameters": {
        "Env": {"Type": "String", "Default": "prod"},
        "Email": {"Type": "String", "Default": ""},
    },
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "InEast": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
        "HasEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Email"}, ""]}]},
        "ProdInEast": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "InEast"}]},
        "ProdOrEmail": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "HasEmail"}]},
    },
    "Resources": {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Function": {
            "Type": "AWS::Lambda::Function",
            "Condition": "ProdInEast",
            "DependsOn": "Queue",
            "Properties": {
                "Role": {"Fn::GetAtt": "Role.Arn"},
                "FunctionName": {
                    "Fn::Sub": [
                        "${Prefix}-${Env}-${AWS::Region}-${Key.Arn}-${!Literal}",
                        {"Prefix": {"Ref": "Env"}},
                    ]
                },
                "KmsKeyArn": {"Fn::If": ["IsProd", {"Ref": "Key"}, {"Ref": "AWS::NoValue"}]},
                "Policy": {"Statement": [{"Condition": {"Bool": {"aws:SecureTransport": "true"}}}]},
            },
        },
        "Topic": {
            "Type": "AWS::SNS::Topic",
            "DependsOn": ["Function", "Role"],
            "Properties": {"TopicName": {"Fn::Sub": "${Function}-topic"}},
        },
    },
    "Outputs": {
        "FunctionArn": {"Condition": "ProdInEast", "Value": {"Fn::GetAtt": ["Function", "Arn"]}},
    },
}


@pytest.fixture(scope="module")
def graph() -> ReferenceGraph:
    return ReferenceGraph(TEMPLATE)


def resource(name: str) -> Node:
    return Node(RESOURCES, name)


def test_each_form_of_get_att_sub_and_depends_on_is_a_dependency(graph):
    # "Role.Arn" string GetAtt, ${Key.Arn} in a Sub list, Ref inside both Fn::If branches,
    # DependsOn as a string and as a list.
    assert graph.creation_dependencies("Function") == {"Role", "Key", "Queue"}
    assert graph.creation_dependencies("Topic") == {"Function", "Role"}
    assert graph.creation_dependencies("Role") == set()
    assert graph.resource_edges() == [
        ("Function", "Key"),
        ("Function", "Role"),
        ("Topic", "Function"),
    ]


def test_sub_variables_of_its_own_are_not_references_and_pseudo_parameters_are(graph):
    function = graph.targets(resource("Function"), within="Properties")
    assert Node(PARAMETERS, "Env") in function
    assert Node(PSEUDO_PARAMETERS, "AWS::Region") in function
    assert Node(PSEUDO_PARAMETERS, "AWS::NoValue") in function  # the Fn::If's false branch
    names = {node.name for node in function}
    assert "Prefix" not in names  # the Sub's own variable
    assert "Literal" not in names and "!Literal" not in names  # ${!Literal} is text


def test_conditions_are_referred_to_by_attribute_fn_if_and_other_conditions(graph):
    assert graph.targets(resource("Function"), within="Condition") == {
        Node(CONDITIONS, "ProdInEast")
    }
    kinds = {
        (r.source, r.target, r.kind) for r in graph.references if r.target.section == CONDITIONS
    }
    assert (resource("Function"), Node(CONDITIONS, "IsProd"), "Fn::If") in kinds
    assert (Node(OUTPUTS, "FunctionArn"), Node(CONDITIONS, "ProdInEast"), "Condition") in kinds
    assert (Node(CONDITIONS, "ProdInEast"), Node(CONDITIONS, "InEast"), "Condition") in kinds
    # A policy statement's Condition block names no template condition.
    assert not [r for r in graph.references if r.path[:2] == ("Properties", "Policy")]


def test_an_output_refers_to_its_resource(graph):
    assert graph.targets(Node(OUTPUTS, "FunctionArn"), within="Value") == {resource("Function")}


def test_condition_inputs_follow_nested_conditions(graph):
    assert graph.condition_inputs("ProdInEast") == {"Env", "AWS::Region"}
    assert graph.condition_inputs("ProdOrEmail") == {"Env", "Email"}
    assert graph.condition_inputs("IsProd") == {"Env"}


def test_one_intrinsic_names_what_it_refers_to_by_itself():
    assert get_att_parts("Role.Arn") == ("Role", "Arn")
    assert get_att_parts(["Role", "Arn"]) == ("Role", "Arn")
    assert sub_parts("a-${B}") == ("a-${B}", {})
    assert sub_parts(["${X}", {"X": "1"}]) == ("${X}", {"X": "1"})
    assert intrinsic_targets("Fn::Sub", ["${X}-${Y.Arn}-${AWS::Region}-${!Z}", {"X": "1"}]) == [
        ("Y", "Arn"),
        ("AWS::Region", None),
    ]
    assert intrinsic_targets("Ref", "Role") == [("Role", None)]
    assert intrinsic_targets("Fn::Join", ["", [{"Ref": "Role"}]]) == []  # its arguments' own


def refs_to(values: dict[str, str]):
    """Fn::Equals operands: a Ref of a given name is its value; anything else stays a function."""

    def operand(value: Any) -> Any:
        if isinstance(value, dict) and value.get("Ref") in values:
            return values[value["Ref"]]
        return value

    return operand


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"Env": "prod", "Email": "", "AWS::Region": "us-east-1"},
            {"IsProd": True, "InEast": True, "HasEmail": False, "ProdInEast": True},
        ),
        (
            {"Env": "dev", "Email": "ops@example.com", "AWS::Region": "us-west-2"},
            {"IsProd": False, "InEast": False, "HasEmail": True, "ProdInEast": False},
        ),
    ],
)
def test_conditions_for_given_values(values, expected):
    conditions = Conditions(TEMPLATE, refs_to(values))
    assert {name: conditions.value(name) for name in expected} == expected
    assert conditions.value("ProdOrEmail") is True


def test_a_condition_the_values_do_not_decide_is_none_unless_another_operand_decides_it():
    conditions = Conditions(TEMPLATE, refs_to({"Env": "dev", "Email": ""}))  # region unknown
    assert conditions.value("InEast") is None
    assert conditions.value("ProdInEast") is False  # IsProd false decides the And
    assert Conditions(TEMPLATE, refs_to({"Env": "prod"})).value("ProdInEast") is None
    assert conditions.value("Undeclared") is None


def test_a_condition_that_refers_to_itself_is_undecided():
    template = {"Conditions": {"A": {"Fn::Not": [{"Condition": "B"}]}, "B": {"Condition": "A"}}}
    assert Conditions(template, refs_to({})).value("A") is None


# --- the built primary template ------------------------------------------------------------


def test_every_depends_on_of_the_primary_template_is_a_dependency(primary):
    graph = ReferenceGraph(primary)
    stated = {
        (name, target)
        for name, body in primary["Resources"].items()
        for target in ([body["DependsOn"]] if isinstance(body.get("DependsOn"), str)
                       else body.get("DependsOn", []))
    }  # fmt: skip
    assert stated, "the primary template states DependsOn"
    for name, target in stated:
        assert target in graph.creation_dependencies(name), (name, target)


def test_the_primary_api_chain_base_path_stage_deployment_api(primary):
    graph = ReferenceGraph(primary)
    (deployment,) = of_type(primary, "AWS::ApiGateway::Deployment")
    assert {"ApiStage", "ApiDomainName"} <= graph.creation_dependencies("ApiBasePathMapping")
    assert deployment in graph.creation_dependencies("ApiStage")
    assert "PaymentApi" in graph.creation_dependencies(deployment)
    assert "ProcessPostMethod" in graph.creation_dependencies(deployment)  # by DependsOn


def test_the_primary_standby_alarm_condition_reads_the_region_and_the_health_check(primary):
    graph = ReferenceGraph(primary)
    assert graph.condition_inputs("AlarmOnHealthCheckIdUsWest2") == {
        "AWS::Region",
        "HealthCheckIdUsWest2",
    }
    alarm = Conditions(primary, refs_to({"AWS::Region": "us-east-1", "HealthCheckIdUsWest2": ""}))
    assert alarm.value("AlarmOnHealthCheckIdUsWest2") is False
    alarm = Conditions(primary, refs_to({"AWS::Region": "us-east-1", "HealthCheckIdUsWest2": "h"}))
    assert alarm.value("AlarmOnHealthCheckIdUsWest2") is True
    alarm = Conditions(primary, refs_to({"AWS::Region": "us-west-2", "HealthCheckIdUsWest2": "h"}))
    assert alarm.value("AlarmOnHealthCheckIdUsWest2") is False


def test_building_the_graph_leaves_the_template_as_written():
    """cfn-lint normalises a template in place (it sorts Fn::Equals operands): the graph must
    work on a copy, or every later reader of the same template sees other conditions."""
    template = {
        "Parameters": {"EnableWaf": {"Type": "String"}},
        "Conditions": {"WafOn": {"Fn::Equals": [{"Ref": "EnableWaf"}, "true"]}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Condition": "WafOn"}},
    }
    written = json.loads(json.dumps(template))
    cfn_graph.ReferenceGraph(template)
    assert template == written
