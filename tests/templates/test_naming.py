"""Every name and parameter value a deployment makes is proved at configuration time.

AWS refuses a name over its limit only when the resource is created - for the standby stack
set, after the replica and primary stack sets are already deployed - so the configuration must
refuse it first, naming the value and the limit (exit 2, nothing written).
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from troposphere import Sub

from templates_src import common, names, naming, package, storage
from templates_src.build import render_all
from templates_src.cli import main
from templates_src.config import SUFFIX_PATTERN, Config, ConfigError, known_regions

LONGEST_SUFFIX = "a" * 20


def _every_region_configs() -> list[Config]:
    """Every region the configuration accepts, as a replica region and as the primary."""
    regions = sorted(known_regions(), key=len)
    longest = regions[-1]
    return [
        Config(
            environment_suffix=LONGEST_SUFFIX,
            primary_region="us-east-1",
            replica_regions=tuple(r for r in regions if r != "us-east-1"),
        ),
        Config(
            environment_suffix=LONGEST_SUFFIX,
            primary_region=longest,
            replica_regions=("us-east-1",),
        ),
    ]


@pytest.mark.parametrize("config", _every_region_configs(), ids=["replicas", "primary"])
def test_a_20_character_suffix_fits_every_region_the_configuration_accepts(config):
    assert naming.problems(config) == []
    # Tight, not lucky: the longest region's audit bucket uses S3's 63 characters exactly.
    longest = max(config.regions, key=len)
    audit = f"payment-{LONGEST_SUFFIX}-audit-{naming.EXAMPLE_ACCOUNT}-{longest}"
    assert len(audit) == common.BUCKET_NAME_MAX
    assert audit in {n.value for n in naming.concrete_names(config)}


def test_the_bucket_names_are_sized_for_the_longest_region_the_configuration_accepts():
    assert common.LONGEST_REGION_NAME == max(len(r) for r in known_regions())


def test_the_standby_accepts_the_artifact_prefix_deploy_passes_for_a_20_character_suffix():
    """The first real deploy with a 16-20 character suffix failed here, after the replica and
    primary stack sets had deployed: the prefix broke the parameter's AllowedPattern."""
    config = Config(environment_suffix=LONGEST_SUFFIX)
    standby = json.loads(next(r.body for r in render_all(config) if r.file_name.startswith("st")))
    prefix = names.artifact_prefix(LONGEST_SUFFIX, naming.EXAMPLE_ACCOUNT)
    given = {names.ARTIFACT_PREFIX_PARAM: prefix}
    assert list(naming.parameter_problems(standby, given, "s")) == []
    too_long = f"payment-{LONGEST_SUFFIX}-artifacts-{naming.EXAMPLE_ACCOUNT}"
    (problem,) = naming.parameter_problems(standby, {names.ARTIFACT_PREFIX_PARAM: too_long}, "s")
    assert "AllowedPattern" in problem.limit and too_long == problem.value


def _suffix_shaped_names(template: dict) -> set[tuple[str, str]]:
    """An independent walk: each top-level name property, Name tag and export name whose
    value the environment suffix or a REST API's generated id shapes."""
    apis = [lid for lid, r in template["Resources"].items() if r["Type"].endswith("::RestApi")]

    def shaped(value: object) -> bool:
        text = json.dumps(value)
        return "${EnvironmentSuffix}" in text or any(f"${{{api}}}" in text for api in apis)

    found = set()
    for logical_id, resource in template["Resources"].items():
        for key, value in resource.get("Properties", {}).items():
            if (key.endswith("Name") or key == "SetIdentifier") and shaped(value):
                found.add((logical_id, key))
            if key.endswith("Tags") and isinstance(value, list):
                for tag in value:
                    if tag.get("Key") == "Name" and shaped(tag["Value"]):
                        found.add((logical_id, f"{key}.Name"))
    for output_id, output in template.get("Outputs", {}).items():
        if "Export" in output and shaped(output["Export"]["Name"]):
            found.add((output_id, "Export.Name"))
    return found


def test_the_check_covers_every_physical_name_the_templates_declare():
    config = Config(replica_regions=("us-west-2", "eu-west-1", "ap-southeast-3"))
    names = naming.concrete_names(config)
    assert all(n.value is not None for n in names), [n.where for n in names if n.value is None]
    checked = {n.declared_at for n in names if n.declared_at}
    for rendered in render_all(config):
        kind = rendered.file_name.removesuffix(".template.json")
        walked = {(kind, *key) for key in _suffix_shaped_names(json.loads(rendered.body))}
        declared = {key for key in checked if key[0] == kind}
        # Constant names (the StackSet roles, the permissions boundary) are checked too; nothing
        # the suffix shapes escapes.
        assert walked <= declared, walked - declared
        assert {k for k in declared if k not in walked} <= {
            (kind, lid, prop)
            for lid in json.loads(rendered.body)["Resources"]
            for prop in ("RoleName", "ManagedPolicyName")
        }
    # Each name is checked in each region its template is deployed to.
    regions = {n.where.rsplit(" in ", 1)[1] for n in names if n.declared_at[:1] == ("standby",)}
    assert regions == set(config.replica_regions)


def test_the_parameter_values_checked_are_those_deploy_passes(tmp_path):
    from payment_ops.deployment import artifacts, specs

    config = Config(replica_regions=("us-west-2", "eu-west-1"), alarm_email="ops@example.com")
    files = {}
    for rendered in render_all(config):
        (tmp_path / rendered.file_name).write_text(rendered.body)
        files[rendered.file_name] = {"sha256": hashlib.sha256(rendered.body.encode()).hexdigest()}
    manifest = {"handler_code_key": package.content_key(b"zip"), "files": files}
    build = artifacts.Build(tmp_path, manifest)
    account = "210987654321"
    specs = specs.planned_specs(config, build, (account,), account, specs.Inputs({}, {}))
    checked = naming.parameter_values(config, account)
    for spec, file_name in zip(specs, ("replica", "primary", "standby"), strict=True):
        passed = spec.parameters
        expected = checked[f"{file_name}.template.json"]
        assert set(passed) == set(expected), file_name
        for key, value in passed.items():
            if key.startswith("HealthCheckId"):
                # Empty until the standby exists, then an id of the shape checked.
                assert value == "" and expected[key]
            elif key == common.CODE_KEY_PARAM:
                assert len(value) == len(expected[key]) and value.endswith(".zip")
            else:
                assert value == expected[key], key


def test_a_name_over_its_limit_is_exit_2_naming_the_value_and_the_limit(
    tmp_path, capsys, monkeypatch
):
    # The access-log bucket's former name: 64 characters with this suffix in ap-southeast-3.
    naming.verify.cache_clear()  # a verdict cached for the real templates must not answer
    monkeypatch.setattr(
        storage,
        "access_log_bucket_name",
        lambda: Sub("payment-${EnvironmentSuffix}-access-logs-${AWS::AccountId}-${AWS::Region}"),
    )
    out = tmp_path / "out"
    args = ["build", "--out", str(out), "--environment-suffix", "a" * 16]
    code = main([*args, "--replica-regions", "ap-southeast-3"])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    name = f"payment-{'a' * 16}-access-logs-123456789012-ap-southeast-3"
    assert f"{name!r} (64 characters)" in lines[0]
    assert "S3 bucket names are 3-63 characters" in lines[0]
    assert "AccessLogBucket" in lines[0] and "ap-southeast-3" in lines[0]
    assert "Traceback" not in err and not out.exists()


def test_a_name_that_cannot_be_worked_out_is_reported_not_passed():
    name = naming.Name("x", naming.resolve({"Fn::GetAtt": ["A", "B"]}, {}), naming.S3_BUCKET)
    assert naming.name_problems(name) and name.value is None


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("payment-dev-audit-123456789012-us-east-1", True),
        ("Payment-dev", False),  # upper case
        ("payment-dev-", False),  # must end with a letter or digit
        ("ab", False),  # 3 characters at least
        ("a" * 64, False),
    ],
)
def test_bucket_rule_follows_the_s3_naming_rules(value, ok):
    assert (naming.name_problems(naming.Name("b", value, naming.S3_BUCKET)) == []) is ok


_REGIONS = sorted(known_regions())


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    suffix=st.from_regex(SUFFIX_PATTERN, fullmatch=True),
    regions=st.lists(st.sampled_from(_REGIONS), min_size=2, max_size=4, unique=True),
)
def test_every_suffix_the_rule_accepts_gives_names_aws_accepts_in_any_regions(suffix, regions):
    config = Config(
        environment_suffix=suffix, primary_region=regions[0], replica_regions=tuple(regions[1:])
    )
    assert naming.problems(config) == []


@given(suffix=st.text(max_size=24))
def test_a_suffix_is_accepted_exactly_when_the_whole_value_follows_the_rule(suffix):
    accepted = re.fullmatch(r"[a-z][a-z0-9-]{0,19}", suffix) is not None
    try:
        Config(environment_suffix=suffix)
    except ConfigError:
        assert not accepted
    else:
        assert accepted


def test_a_sovereign_cloud_replica_is_a_valid_secondary_region():
    """Found by the property above: SecondaryRegion's pattern took two letters before the first
    hyphen, so a standby whose first replica region is eusc-de-east-1 could never deploy."""
    config = Config(primary_region="il-central-1", replica_regions=("eusc-de-east-1",))
    assert naming.problems(config) == []
