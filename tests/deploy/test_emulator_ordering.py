"""The emulator creates a stack's resources after everything they reference, as CloudFormation
does (moto alone honours only DependsOn)."""

from __future__ import annotations

from payment_ops.emulator.ordering import dependency_order


def test_a_referenced_resource_and_its_own_dependencies_come_first():
    # Template order puts the mapping first; its stage references the deployment, which waits
    # for the method.
    resources = {
        "Mapping": {"Properties": {"Stage": {"Ref": "Stage"}}},
        "Stage": {"Properties": {"DeploymentId": {"Ref": "Deployment"}}},
        "Deployment": {"DependsOn": "Method", "Properties": {"RestApiId": {"Ref": "Api"}}},
        "Method": {"Properties": {"Uri": {"Fn::Sub": "arn:${AWS::Partition}:x/${Function.Arn}"}}},
        "Function": {"Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}}},
        "Role": {"Properties": {}},
        "Api": {"Properties": {"Name": {"Fn::Sub": ["${Name}", {"Name": {"Ref": "Param"}}]}}},
    }
    order = dependency_order(resources)

    assert sorted(order) == sorted(resources)
    position = {name: i for i, name in enumerate(order)}
    for before, after in (
        ("Stage", "Mapping"),
        ("Deployment", "Stage"),
        ("Method", "Deployment"),
        ("Api", "Deployment"),
        ("Function", "Method"),
        ("Role", "Function"),
    ):
        assert position[before] < position[after], (before, after)


def test_independent_resources_keep_template_order_and_a_cycle_does_not_hang():
    assert dependency_order({"B": {}, "A": {}, "C": {}}) == ["B", "A", "C"]
    cycle = {"A": {"Properties": {"X": {"Ref": "B"}}}, "B": {"Properties": {"X": {"Ref": "A"}}}}
    assert sorted(dependency_order(cycle)) == ["A", "B"]
