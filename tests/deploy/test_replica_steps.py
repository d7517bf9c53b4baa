"""Two regions added (or removed) in one run: the primary stack set is updated once per table
replica, nothing else with it, then once for the rest - as AWS::DynamoDB::GlobalTable requires,
and as the emulator enforces. Runs in file order on one deployment."""

from __future__ import annotations

import io

import pytest

from payment_ops.commands import deploy as deploy_script
from templates_src import names

from .conftest import PRIMARY, REPLICA, deploy_args, operation_count, run_deploy

pytestmark = pytest.mark.integration

SUFFIX = "steps"
PRIMARY_SET = names.stack_set(SUFFIX, "primary")
TABLE = names.table(SUFFIX)
ADDED = ("eu-central-1", "eu-west-1")


@pytest.fixture(scope="module")
def args(emulator, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return deploy_args(emulator.url, SUFFIX, tmp_path_factory.mktemp("steps"))


def _regions_with_the_table(aws) -> set[str]:
    found = set()
    for region in (PRIMARY, REPLICA, *ADDED):
        if TABLE in aws("dynamodb", region).list_tables()["TableNames"]:
            found.add(region)
    return found


def test_first_deploy_with_one_replica(aws, args):
    result = run_deploy([*args, "--bootstrap"])
    assert result.code == 0, result.err
    assert _regions_with_the_table(aws) == {PRIMARY, REPLICA}


def test_plan_of_two_new_regions_shows_one_update_per_replica_then_the_rest(args):
    out = io.StringIO()
    code = deploy_script.main(
        [*args, "--replica-regions", ",".join((REPLICA, *ADDED)), "--plan"], out=out
    )

    assert code == 0
    text = out.getvalue()
    assert "  in 3 updates (a global table adds or removes one replica per update" in text
    assert "    update 1 of 3: PaymentsTable: add replica eu-central-1, nothing else\n" in text
    assert "    update 2 of 3: PaymentsTable: add replica eu-west-1, nothing else\n" in text
    assert "    update 3 of 3: the rest\n" in text


def test_deploying_two_new_regions_adds_one_replica_per_update(aws, args):
    before = operation_count(aws, PRIMARY_SET)

    result = run_deploy([*args, "--replica-regions", ",".join((REPLICA, *ADDED))])

    assert result.code == 0, result.err
    assert result.out.index(f"{PRIMARY_SET}: update 1 of 3: PaymentsTable: add replica") < (
        result.out.index(f"{PRIMARY_SET}: update 3 of 3: the rest")
    )
    assert _regions_with_the_table(aws) == {PRIMARY, REPLICA, *ADDED}
    # Two replica updates, the rest, and the health-check handoff of the new standbys.
    assert operation_count(aws, PRIMARY_SET) - before == 4


def test_removing_two_regions_removes_one_replica_per_update(aws, args):
    result = run_deploy([*args, "--replica-regions", REPLICA, "--remove-unconfigured-regions"])

    assert result.code == 0, result.err
    assert f"{PRIMARY_SET}: update 1 of 3: PaymentsTable: remove replica eu-central-1" in result.out
    assert f"{PRIMARY_SET}: update 2 of 3: PaymentsTable: remove replica eu-west-1" in result.out
    assert _regions_with_the_table(aws) == {PRIMARY, REPLICA}
