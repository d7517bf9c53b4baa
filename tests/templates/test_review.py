"""REVIEW.md: what a reviewer reads instead of the JSON; checked against the templates."""

from __future__ import annotations

import re

import pytest

from templates_src.config import Config
from templates_src.iam import role_policy_documents
from templates_src.review import mermaid, reference_edges, render_review, show

from .conftest import of_type


@pytest.fixture(scope="module")
def review(primary, replica) -> str:
    config = Config()
    return render_review(
        {
            "primary.template.json": (primary, ["us-east-1"]),
            "replica.template.json": (replica, ["us-west-2"]),
        },
        config.describe(),
    )


def test_diagram_names_every_resource_that_has_references(primary):
    diagram = mermaid(primary)
    referring = {
        name
        for name, resource in primary["Resources"].items()
        if any(source == name or target == name for source, target in reference_edges(primary))
    }
    nodes = set(re.findall(r"^    (\w+)\[", diagram, re.M))
    assert nodes == referring
    # A few references a reviewer relies on, read straight from the template:
    assert "  ProcessorFunction --> PaymentsTable" in diagram
    assert "  AuditWriterStreamMapping --> PaymentsTable" in diagram
    assert "  PaymentsTable --> TableKey" in diagram


def test_every_resource_is_listed_with_its_type(primary, review):
    for name, resource in primary["Resources"].items():
        assert f"| `{name}` | `{resource['Type']}` |" in review


def test_alarm_thresholds_come_from_the_template(primary, review):
    for name, alarm in of_type(primary, "AWS::CloudWatch::Alarm").items():
        line = next(line for line in review.splitlines() if line.startswith(f"| `{name}` |"))
        symbol = "<" if alarm["Properties"]["ComparisonOperator"].startswith("Less") else ">"
        threshold = alarm["Properties"]["Threshold"]
        assert f"{symbol} {threshold} over" in line.replace(">=", ">").replace("<=", "<")


def test_retained_resources_are_called_out(primary, review):
    for name, resource in primary["Resources"].items():
        line = next(line for line in review.splitlines() if line.startswith(f"| `{name}` |"))
        retained = resource.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate")
        assert ("**retained on delete**" in line) == retained


def test_iam_matrix_lists_every_statement(primary, review):
    for name in of_type(primary, "AWS::IAM::Role"):
        for document in role_policy_documents(primary, name):
            for statement in document["Statement"]:
                assert f"| `{name}` | {statement['Sid']} |" in review


def test_parameters_and_outputs_are_listed(primary, review):
    for name in primary["Parameters"]:
        assert f"| `{name}` |" in review
    for name in primary["Outputs"]:
        assert f"| `{name}` |" in review


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "PaymentsTable"}, "PaymentsTable"),
        ({"Fn::GetAtt": ["TableKey", "Arn"]}, "TableKey.Arn"),
        ({"Fn::Sub": ["a-${X}-b", {"X": {"Ref": "Y"}}]}, "a-Y-b"),
        (True, "yes"),
    ],
)
def test_intrinsics_are_shown_as_a_reviewer_reads_them(value, expected):
    assert show(value) == expected
