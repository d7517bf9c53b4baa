"""A live deployment is never destroyed by wrong flags, and retained data is never hit blind.

One deployment (primary us-east-1, replica us-west-2) is met with the swapped layout (primary
us-west-2, replica us-east-1), as an operator who forgot or mistyped ``--primary-region``
would: deploy and delete refuse with one line and exit 2, and AWS holds exactly what it held.
A stray stack of the suffix in a third region stops a purge. After a plain delete, a redeploy
names the retained data and the ways forward instead of failing half-way. Runs in file order.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from payment_ops.deployment.names import ACCOUNT_BASELINE_STACK_SET as BASELINE
from templates_src import names

from .conftest import ACCOUNT, PRIMARY, REPLICA, deploy_args, run_delete, run_deploy

pytestmark = pytest.mark.integration

SUFFIX = "live"
OTHER = "eu-west-1"
TABLE = names.table(SUFFIX)
STACK_SETS = [names.stack_set(SUFFIX, kind) for kind in names.DEPLOY_ORDER]
SWAPPED = ["--primary-region", REPLICA, "--replica-regions", PRIMARY]
STRAY = "payment-live-by-hand"


@pytest.fixture(scope="module")
def args(emulator, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return deploy_args(emulator.url, SUFFIX, tmp_path_factory.mktemp("live"))


@pytest.fixture(scope="module")
def delete_args(emulator) -> list[str]:
    return ["--environment-suffix", SUFFIX, "--endpoint-url", emulator.url, "--poll", "0.05"]


def _held(aws) -> dict[str, Any]:
    """Stack sets, their instances and operations, stacks, buckets and tables of every region
    a deployment here touches."""
    held: dict[str, Any] = {}
    for region in (PRIMARY, REPLICA, OTHER):
        cfn = aws("cloudformation", region)
        sets = cfn.list_stack_sets(Status="ACTIVE")["Summaries"]
        held[region] = {
            "stack sets": {
                s["StackSetName"]: (
                    s["Status"],
                    cfn.list_stack_instances(StackSetName=s["StackSetName"])["Summaries"],
                    len(cfn.list_stack_set_operations(StackSetName=s["StackSetName"])["Summaries"]),
                )
                for s in sets
            },
            "stacks": sorted(
                (s["StackName"], s["StackStatus"]) for s in cfn.describe_stacks()["Stacks"]
            ),
            "tables": aws("dynamodb", region).list_tables()["TableNames"],
        }
    held["buckets"] = sorted(b["Name"] for b in aws("s3").list_buckets()["Buckets"])
    return held


def _one_line_refusal(result, *fragments: str) -> None:
    assert result.code == 2, (result.out, result.err)
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    for fragment in fragments:
        assert fragment in result.err, result.err


def test_the_deployment_is_live(aws, args):
    result = run_deploy([*args, "--bootstrap"])
    assert result.code == 0, result.err
    cfn = aws("cloudformation", PRIMARY)
    # The environment's three, beside the account baseline every environment shares.
    assert {s["StackSetName"] for s in cfn.list_stack_sets(Status="ACTIVE")["Summaries"]} == {
        *STACK_SETS,
        BASELINE,
    }


def test_deploy_with_the_primary_region_swapped_is_refused_and_changes_nothing(aws, args):
    before = _held(aws)
    result = run_deploy([*args, *SWAPPED])
    _one_line_refusal(
        result,
        "already deployed with another layout",
        f"stack set payment-{SUFFIX}-primary in {PRIMARY}",
        f"--primary-region {PRIMARY} --replica-regions {REPLICA}",
    )
    assert _held(aws) == before
    # No second set of stack sets in the region the wrong flag named.
    assert aws("cloudformation", REPLICA).list_stack_sets()["Summaries"] == []


def test_plan_with_the_primary_region_swapped_says_so(aws, args):
    before = _held(aws)
    result = run_deploy([*args, *SWAPPED, "--plan"])
    _one_line_refusal(result, "already deployed with another layout")
    assert _held(aws) == before


@pytest.mark.parametrize("purge", [True, False], ids=["purge", "plain delete"])
def test_delete_with_the_primary_region_swapped_is_refused_and_changes_nothing(
    aws, delete_args, purge
):
    before = _held(aws)
    result = run_delete([*delete_args, *SWAPPED, *(["--purge-data", "--yes"] if purge else [])])
    _one_line_refusal(
        result,
        f"is deployed from {PRIMARY}, not from {REPLICA}",
        f"Re-run with --primary-region {PRIMARY} --replica-regions {REPLICA}",
    )
    assert _held(aws) == before
    for region in (PRIMARY, REPLICA):
        table = aws("dynamodb", region).describe_table(TableName=TABLE)["Table"]
        assert table["TableStatus"] == "ACTIVE"


def test_a_stack_of_the_suffix_in_another_region_stops_a_purge(aws, delete_args):
    aws("cloudformation", OTHER).create_stack(
        StackName=STRAY,
        TemplateBody=json.dumps(
            {
                "Resources": {
                    "Note": {
                        "Type": "AWS::SSM::Parameter",
                        "Properties": {"Name": f"/{STRAY}", "Type": "String", "Value": "x"},
                    }
                }
            }
        ),
        Tags=[
            {"Key": "Project", "Value": "payment-infrastructure"},
            {"Key": "EnvironmentSuffix", "Value": SUFFIX},
        ],
    )
    before = _held(aws)

    result = run_delete([*delete_args, "--purge-data", "--yes"])

    _one_line_refusal(result, "refusing to purge", f"stack {STRAY}", OTHER, "nothing changed")
    assert _held(aws) == before
    aws("cloudformation", OTHER).delete_stack(StackName=STRAY)


def test_plain_delete_keeps_the_data(aws, delete_args):
    result = run_delete(delete_args)
    assert result.code == 0, result.err
    held = aws("cloudformation").list_stack_sets(Status="ACTIVE")["Summaries"]
    assert [s["StackSetName"] for s in held] == [BASELINE]  # the account's, not the suffix's
    assert f"table {TABLE}" in result.out


def test_redeploy_over_retained_data_is_refused_naming_it_and_the_ways_forward(aws, args):
    before = _held(aws)
    result = run_deploy(args)
    _one_line_refusal(
        result,
        f"retained data of an earlier payment-{SUFFIX} is in the way",
        f"{PRIMARY}: table {TABLE}",
        f"bucket payment-{SUFFIX}-audit-{ACCOUNT}-{REPLICA}",
        "--purge-data",
        "another --environment-suffix",
    )
    assert _held(aws) == before
    with pytest.raises(ClientError, match="StackSetNotFound"):
        aws("cloudformation").describe_stack_set(StackSetName=STACK_SETS[0])


def test_after_the_purge_the_suffix_deploys_again(aws, args, delete_args):
    purged = run_delete([*delete_args, "--purge-data", "--yes"])
    assert purged.code == 0, purged.err
    result = run_deploy(args)
    assert result.code == 0, result.err
    for name in STACK_SETS:
        instances = aws("cloudformation").list_stack_instances(StackSetName=name)["Summaries"]
        assert {i["Status"] for i in instances} == {"CURRENT"}, name
