"""The longest suffix the configuration accepts (20 characters) in a long-named region: every
name and parameter value fits its AWS limit, so the whole deployment completes. (Before the
names were proved at configuration time, a 16-20 character suffix failed the standby's
ArtifactBucketPrefix pattern in every region, after the replica and primary had deployed.)"""

from __future__ import annotations

import pytest

from templates_src import names

from .conftest import ACCOUNT, deploy_args, run_deploy

pytestmark = pytest.mark.integration

SUFFIX = "a2345678901234567890"  # 20 characters, the configuration's maximum
PRIMARY, REPLICA = "us-east-1", "ap-southeast-3"


def test_a_20_character_suffix_deploys_to_a_long_named_region(aws, emulator, tmp_path):
    assert len(SUFFIX) == 20
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
    cfn = aws("cloudformation", PRIMARY)
    for kind, region in (("replica", REPLICA), ("primary", PRIMARY), ("standby", REPLICA)):
        (instance,) = cfn.list_stack_instances(StackSetName=names.stack_set(SUFFIX, kind))[
            "Summaries"
        ]
        assert (instance["Region"], instance["Status"]) == (region, "CURRENT")
    audit = names.audit_bucket(SUFFIX, ACCOUNT, REPLICA)
    assert len(audit) <= 63
    aws("s3", REPLICA).head_bucket(Bucket=audit)
