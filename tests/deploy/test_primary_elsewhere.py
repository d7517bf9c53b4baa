"""The primary in us-west-2 and its replica in us-east-1: the first deploy completes, health
checks handed over included (the alarm on the standby's check lives in us-east-1 only, so the
primary's stack in us-west-2 leaves it out)."""

from __future__ import annotations

import pytest

from templates_src import names

from .conftest import ACCOUNT, deploy_args, run_deploy

pytestmark = pytest.mark.integration

SUFFIX = "west"
PRIMARY, REPLICA = "us-west-2", "us-east-1"


def test_the_first_deploy_with_the_primary_in_us_west_2_completes(aws, emulator, tmp_path):
    args = deploy_args(
        emulator.url,
        SUFFIX,
        tmp_path,
        "--bootstrap",
        "--primary-region", PRIMARY,
        "--replica-regions", REPLICA,
    )  # fmt: skip

    result = run_deploy(args)

    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    assert "handing the standby health checks to the primary's alarms" in result.out
    # The standby started only once the primary (and with it the table replica) was deployed.
    assert result.out.index(f"payment-{SUFFIX}-primary: creating stack set") < (
        result.out.index(f"payment-{SUFFIX}-standby: creating stack set")
    )
    cfn = aws("cloudformation", PRIMARY)
    for kind, region in (("replica", REPLICA), ("primary", PRIMARY), ("standby", REPLICA)):
        (instance,) = cfn.list_stack_instances(StackSetName=names.stack_set(SUFFIX, kind))[
            "Summaries"
        ]
        assert (instance["Region"], instance["Account"], instance["Status"]) == (
            region,
            ACCOUNT,
            "CURRENT",
        )
    table = aws("dynamodb", PRIMARY).describe_table(TableName=names.table(SUFFIX))
    assert {r["RegionName"] for r in table["Table"].get("Replicas", [])} <= {PRIMARY, REPLICA}
    # Nothing alarms on the standby's check from us-west-2, where Route 53 publishes no metric.
    alarms = aws("cloudwatch", PRIMARY).describe_alarms(
        AlarmNames=[names.resource(SUFFIX, f"api-health-{REPLICA}")]
    )
    assert alarms["MetricAlarms"] == []

    again = run_deploy(args)
    assert again.code == 0, again.err
    assert "up to date, no operation started" in again.out
