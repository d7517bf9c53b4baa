"""``deploy.py --plan`` and the plan every deploy shows first.

The pure diff runs on small templates (fast); the rest walks one deployment against the
emulator in file order: a plan before anything exists, the first deploy, then plans for no
change, an alarm threshold, a new replica region and a table key change, which deploy refuses
without ``--allow-replacement``. What AWS holds is checked through boto3, and every plan is
checked to have made read calls only.
"""

from __future__ import annotations

import copy
import dataclasses
import io
from pathlib import Path

import pytest

from payment_ops.commands import deploy as deploy_script
from payment_ops.deployment import deploy, plan, refusals, table_steps
from payment_ops.deployment.aws import Aws
from payment_ops.deployment.errors import DeployError
from templates_src import build as build_module
from templates_src import config as config_module
from templates_src import data, names

from .conftest import PRIMARY, REPLICA, deploy_args, operation_count, run_cli, run_deploy

SUFFIX = "plan"
EXTRA = "eu-west-1"
REPLICA_SET = names.stack_set(SUFFIX, "replica")
PRIMARY_SET = names.stack_set(SUFFIX, "primary")
STANDBY_SET = names.stack_set(SUFFIX, "standby")
TABLE = names.table(SUFFIX)
READ_VERBS = ("Describe", "List", "Get", "Head")


# --- the diff on small templates -----------------------------------------------------------


def _table(**properties) -> dict:
    props = {
        "TableName": "payments",
        "KeySchema": [{"AttributeName": "payment_id", "KeyType": "HASH"}],
        "Replicas": [{"Region": {"Ref": "AWS::Region"}}, {"Region": "us-west-2"}],
        **properties,
    }
    return {
        "Type": "AWS::DynamoDB::GlobalTable",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": props,
    }


def _alarm(threshold: int) -> dict:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {"AlarmName": {"Fn::Sub": "${Prefix}-errors"}, "Threshold": threshold},
    }


def _template(**resources) -> dict:
    return {
        "Parameters": {"Prefix": {"Type": "String", "Default": "payment-dev"}},
        "Conditions": {"HasPrefix": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Prefix"}, ""]}]}},
        "Resources": resources,
    }


def _diff(old: dict, new: dict, old_params=None, new_params=None) -> plan.TemplateDiff:
    return plan.diff_templates(old, new, old_params or {}, new_params or {}, PRIMARY)


def _one(diff: plan.TemplateDiff, logical_id: str) -> plan.ResourceChange:
    return next(r for r in diff.resources if r.logical_id == logical_id)


def test_diff_values_names_property_paths_and_matches_list_items_by_identity():
    old = {"KeySchema": [{"AttributeName": "a"}], "Replicas": [{"Region": "r1"}]}
    new = {"KeySchema": [{"AttributeName": "b"}], "Replicas": [{"Region": "r0"}, {"Region": "r1"}]}
    changes = plan.diff_values(old, new, ("Properties",))
    assert [(c.where, c.old, c.new) for c in changes] == [
        ("Properties.KeySchema[0].AttributeName", "a", "b"),
        ("Properties.Replicas[Region=r0]", plan.MISSING, {"Region": "r0"}),
    ]


def test_create_only_properties_come_from_the_provider_schemas():
    table = plan.create_only(PRIMARY, "AWS::DynamoDB::GlobalTable")
    assert table["/properties/TableName"] == plan.REPLACE
    assert table["/properties/KeySchema"] == plan.MAY_REPLACE  # conditionalCreateOnlyProperties
    assert "/properties/Replicas" not in table
    assert plan.create_only(PRIMARY, "AWS::S3::Bucket")["/properties/BucketName"] == plan.REPLACE
    assert "/properties/Threshold" not in plan.create_only(PRIMARY, "AWS::CloudWatch::Alarm")
    assert plan.create_only(PRIMARY, "AWS::NoSuch::Type") is None


def test_identical_templates_have_no_changes():
    template = _template(Table=_table(), Alarm=_alarm(5))
    assert _diff(template, copy.deepcopy(template)).empty


def test_a_threshold_change_is_a_modification_without_replacement():
    diff = _diff(_template(Alarm=_alarm(5)), _template(Alarm=_alarm(7)))
    alarm = _one(diff, "Alarm")
    assert (alarm.action, alarm.replacement, alarm.unsafe) == ("modify", "", False)
    assert [(c.where, c.old, c.new, c.replaces) for c in alarm.changes] == [
        ("Properties.Threshold", 5, 7, "")
    ]


def test_a_table_key_change_replaces_a_stateful_resource_and_says_the_name_blocks_it():
    new_key = [{"AttributeName": "payment_ref", "KeyType": "HASH"}]
    diff = _diff(_template(Table=_table()), _template(Table=_table(KeySchema=new_key)))
    table = _one(diff, "Table")
    assert table.replacement == plan.MAY_REPLACE and table.stateful and table.unsafe
    (change,) = table.changes
    assert change.where == "Properties.KeySchema[0].AttributeName"
    assert change.pointer == "/properties/KeySchema"
    assert any("custom-named" in note for note in table.notes)
    assert any("UpdateReplacePolicy Retain" in note for note in table.notes)


def test_a_changed_name_replaces_and_what_refers_to_it_may_change():
    consumer = {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {"EventSourceArn": {"Fn::GetAtt": ["Table", "StreamArn"]}},
    }
    diff = _diff(
        _template(Table=_table(), Mapping=consumer),
        _template(Table=_table(TableName="payments-v2"), Mapping=consumer),
    )
    table = _one(diff, "Table")
    assert table.replacement == plan.REPLACE and table.unsafe
    assert not any("custom-named" in note for note in table.notes)
    mapping = _one(diff, "Mapping")
    assert mapping.replacement == plan.MAY_REPLACE and not mapping.unsafe
    assert mapping.changes[0].new == "(may change: Table is replaced)"


def test_a_new_replica_is_an_in_place_modification():
    replicas = [{"Region": {"Ref": "AWS::Region"}}, {"Region": "us-west-2"}, {"Region": EXTRA}]
    diff = _diff(_template(Table=_table()), _template(Table=_table(Replicas=replicas)))
    table = _one(diff, "Table")
    assert (table.action, table.replacement, table.unsafe) == ("modify", "", False)
    assert [c.where for c in table.changes] == [f"Properties.Replicas[Region={EXTRA}]"]
    assert f"replica added in {EXTRA} (in place, no replacement)" in table.notes


def _replicas(*regions: str) -> list[dict]:
    return [{"Region": {"Ref": "AWS::Region"}}, *({"Region": r} for r in regions)]


def test_two_new_replicas_are_two_updates_of_the_held_template_then_the_rest():
    old = _template(Table=_table(), Errors=_alarm(5))
    new = _template(Table=_table(Replicas=_replicas("us-west-2", EXTRA, "eu-central-1")))
    new["Resources"]["Errors"] = _alarm(9)

    steps = table_steps.replica_steps(old, new)

    assert [s.description for s in steps] == [
        "Table: add replica eu-central-1, nothing else",
        f"Table: add replica {EXTRA}, nothing else",
    ]
    # Each step is the held template with one more replica, nothing else changed.
    first, second = (s.template for s in steps)
    assert first["Resources"]["Errors"] == old["Resources"]["Errors"]
    assert _diff(old, first).resources[0].changes[0].where == (
        "Properties.Replicas[Region=eu-central-1]"
    )
    assert [c.where for r in _diff(first, second).resources for c in r.changes] == [
        f"Properties.Replicas[Region={EXTRA}]"
    ]
    # The rest comes last: only the alarm is left to change.
    assert [r.logical_id for r in _diff(second, new).resources] == ["Errors"]


def test_one_replica_alone_needs_no_extra_update_but_one_with_other_table_changes_does():
    old = _template(Table=_table())
    alone = _template(Table=_table(Replicas=_replicas("us-west-2", EXTRA)))
    assert table_steps.replica_steps(old, alone) == []

    with_other = _template(
        Table=_table(Replicas=_replicas("us-west-2", EXTRA), BillingMode="PAY_PER_REQUEST")
    )
    (step,) = table_steps.replica_steps(old, with_other)
    assert step.template == alone
    assert table_steps.replica_steps(old, _template(Table=_table(), Errors=_alarm(1))) == []


def test_two_removed_replicas_are_one_update_each():
    old = _template(Table=_table(Replicas=_replicas("us-west-2", EXTRA)))
    new = _template(Table=_table(Replicas=_replicas()))
    steps = table_steps.replica_steps(old, new)
    # The second removal is all that is left: the final update makes it.
    assert [s.description for s in steps] == [f"Table: remove replica {EXTRA}, nothing else"]


def test_a_replaced_stateful_resource_is_refused_unless_the_flag_says_go_ahead():
    plans = [_stateful_plan()]
    assert "!!" in plan.render(plans)
    with pytest.raises(DeployError) as refused:
        refusals.refuse_unsafe(plans, allow=False)
    assert refused.value.exit_code == 2
    refusals.refuse_unsafe(plans, allow=True)  # the flag goes ahead


def test_no_secret_or_api_key_is_stateful_any_more():
    """CLIENT_AUTH.md: nothing shared and secret remains; a leftover secret or key being
    removed with the change that drops them is not data loss."""
    for resource_type in ("AWS::SecretsManager::Secret", "AWS::ApiGateway::ApiKey"):
        removed = _diff(_template(Thing={"Type": resource_type, "Properties": {}}), _template())
        assert not _one(removed, "Thing").unsafe


def test_a_renamed_logical_id_is_a_removal_plus_an_addition():
    diff = _diff(_template(Alarm=_alarm(5)), _template(ErrorsAlarm=_alarm(5)))
    assert [(r.logical_id, r.action) for r in diff.resources] == [
        ("ErrorsAlarm", "add"),
        ("Alarm", "remove"),
    ]
    assert "a changed logical ID is a removal plus an addition" in _one(diff, "Alarm").notes[0]
    table = _diff(_template(Table=_table()), _template(PaymentsTable=_table()))
    assert "PaymentsTable fails while this resource holds the same TableName" in " ".join(
        _one(table, "Table").notes
    )
    assert not _one(table, "Table").unsafe  # retained: it leaves the stack, the data stays


def test_removing_a_stateful_resource_is_unsafe_unless_it_is_retained():
    retained = _diff(_template(Table=_table()), _template())
    assert not _one(retained, "Table").unsafe
    deleted_table = {k: v for k, v in _table().items() if k != "DeletionPolicy"}
    deleted = _diff(_template(Table=deleted_table), _template())
    assert _one(deleted, "Table").unsafe


def test_parameters_and_conditions_are_resolved_before_comparing():
    template = _template(Alarm=_alarm(5))
    template["Resources"]["Topic"] = {"Type": "AWS::SNS::Topic", "Condition": "HasPrefix"}
    diff = _diff(template, template, {"Prefix": "payment-dev"}, {"Prefix": "payment-prod"})
    alarm = _one(diff, "Alarm")
    assert [(c.where, c.old, c.new, c.replaces) for c in alarm.changes] == [
        ("Properties.AlarmName", "payment-dev-errors", "payment-prod-errors", plan.REPLACE)
    ]
    assert alarm.replacement == plan.REPLACE and not alarm.unsafe
    gone = _diff(template, template, {"Prefix": "x"}, {"Prefix": ""})
    assert ("Topic", "remove") in [(r.logical_id, r.action) for r in gone.resources]


def _stateful_plan() -> plan.StackSetPlan:
    new_key = [{"AttributeName": "payment_ref", "KeyType": "HASH"}]
    diff = _diff(_template(Table=_table()), _template(Table=_table(KeySchema=new_key)))
    return plan.StackSetPlan("payment-x-primary", (PRIMARY,), exists=True, update=True, diff=diff)


def test_render_marks_stateful_replacements_in_red_only_when_asked():
    plain = plan.render([_stateful_plan()], color=False)
    assert plan.MAY_STATEFUL_MARK in plain and "\033[" not in plain
    assert "~ Properties.KeySchema[0].AttributeName: " in plain
    colored = plan.render([_stateful_plan()], color=True)
    assert f"{plan.RED}~ Table (AWS::DynamoDB::GlobalTable)  {plan.MAY_STATEFUL_MARK}" in colored
    assert plan.unsafe_summary([_stateful_plan()]) == (
        "payment-x-primary Table (AWS::DynamoDB::GlobalTable, replaced)"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_color_only_on_a_terminal_and_never_with_no_color():
    assert deploy.use_color(_Terminal(), {}) is True
    assert deploy.use_color(_Terminal(), {"NO_COLOR": "1"}) is False
    assert deploy.use_color(io.StringIO(), {}) is False


def test_long_values_are_cut():
    assert len(plan.short({"a": "x" * 500})) == plan.MAX_VALUE_CHARS
    assert plan.short("abc") == '"abc"'


# --- against the emulator ------------------------------------------------------------------


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("plan")


@pytest.fixture(scope="module")
def args(emulator, work: Path) -> list[str]:
    return deploy_args(emulator.url, SUFFIX, work)


def _plan(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, Aws]:
    """``--plan`` in process, keeping the run's call counter (the botocore event hook)."""
    made: list[Aws] = []

    class Recording(Aws):
        def __init__(self, *a, **k) -> None:
            super().__init__(*a, **k)
            made.append(self)

    monkeypatch.setattr(deploy, "Aws", Recording)
    out = io.StringIO()
    code = deploy_script.main([*argv, "--plan"], out=out)
    (aws,) = made
    return code, out.getvalue(), aws


def _assert_read_only(aws: Aws) -> None:
    writes = sorted(name for name in aws.calls if not name.split(":")[1].startswith(READ_VERBS))
    assert writes == [], writes
    assert aws.operations == 0


def _build(work: Path, name: str, **changes) -> str:
    config = dataclasses.replace(
        config_module.from_inputs(environment_suffix=SUFFIX, environ={}), **changes
    )
    result = build_module.build(config, work / name)
    assert result.clean, result.findings
    return str(work / name)


def _key(aws, region: str) -> list[dict]:
    return aws("dynamodb", region).describe_table(TableName=TABLE)["Table"]["KeySchema"]


@pytest.mark.integration
def test_plan_before_the_first_deploy_adds_everything_and_changes_nothing(aws, args, monkeypatch):
    code, out, calls = _plan(args, monkeypatch)

    assert code == 0, out
    assert f"plan {REPLICA_SET} ({REPLICA}): stack set does not exist yet" in out
    assert f"plan {PRIMARY_SET} ({PRIMARY}): stack set does not exist yet" in out
    assert f"plan {STANDBY_SET} ({REPLICA}): stack set does not exist yet" in out
    # In the order deploy acts in.
    assert out.index(REPLICA_SET) < out.index(PRIMARY_SET) < out.index(STANDBY_SET)
    assert "    + PaymentsTable (AWS::DynamoDB::GlobalTable)\n" in out
    assert "    + PaymentsTableStream (Custom::TableStream)\n" in out
    assert f"  + instance {REPLICA}\n" in out
    assert "deploy needs --bootstrap" in out and "nothing was changed" in out
    _assert_read_only(calls)
    assert aws("cloudformation").list_stack_sets(Status="ACTIVE")["Summaries"] == []
    assert aws("s3").list_buckets()["Buckets"] == []


@pytest.mark.integration
def test_the_first_deploy_shows_the_plan_before_acting(aws, args):
    result = run_deploy([*args, "--bootstrap"])

    assert result.code == 0, result.err
    assert result.out.index(f"plan {REPLICA_SET}") < result.out.index("creating stack set")
    assert _key(aws, PRIMARY) == [{"AttributeName": "payment_id", "KeyType": "HASH"}]


@pytest.mark.integration
def test_plan_with_nothing_changed_says_no_changes(args, monkeypatch):
    code, out, calls = _plan(args, monkeypatch)

    assert code == 0
    assert f"plan {REPLICA_SET} ({REPLICA}): no changes\n" in out
    assert f"plan {PRIMARY_SET} ({PRIMARY}): no changes\n" in out
    assert f"plan {STANDBY_SET} ({REPLICA}): no changes\n" in out
    assert "plan: no changes\n" in out
    _assert_read_only(calls)


@pytest.mark.integration
def test_payment_plan_prints_what_deploy_plan_prints(args):
    """``payment-plan ARGS`` is ``deploy ARGS --plan``, and refuses ``--plan`` itself."""
    as_flag, as_command = io.StringIO(), io.StringIO()
    assert deploy_script.main([*args, "--plan"], out=as_flag) == 0
    assert deploy_script.plan_main(args, out=as_command) == 0
    assert as_command.getvalue() == as_flag.getvalue()
    assert "plan only: nothing was changed\n" in as_command.getvalue()
    with pytest.raises(SystemExit) as refused:
        deploy_script.plan_main([*args, "--plan"], out=io.StringIO())
    assert refused.value.code == 2


@pytest.mark.integration
def test_plan_of_an_alarm_threshold_change_modifies_without_replacement(args, work, monkeypatch):
    thresholds = dataclasses.replace(config_module.AlarmThresholds(), processor_errors=7)
    build_dir = _build(work, "build-alarm", thresholds=thresholds)

    code, out, calls = _plan([*args, "--build-dir", build_dir], monkeypatch)

    assert code == 0
    assert f"plan {REPLICA_SET} ({REPLICA}): no changes\n" in out
    assert "resources: 0 to add, 0 to remove, 1 to modify (0 replaced)" in out
    assert "    ~ ProcessorErrorsAlarm (AWS::CloudWatch::Alarm)\n" in out
    assert "        ~ Properties.Threshold: 5 -> 7\n" in out
    assert "REPLACE" not in out
    _assert_read_only(calls)


@pytest.mark.integration
def test_plan_of_a_new_replica_region_adds_its_instance_and_table_replica(args, work, monkeypatch):
    regions = f"{REPLICA},{EXTRA}"
    argv = [*args, "--build-dir", str(work / "build-regions"), "--replica-regions", regions]

    code, out, calls = _plan(argv, monkeypatch)

    assert code == 0
    assert f"plan {REPLICA_SET} ({REPLICA}, {EXTRA}): template and parameters unchanged" in out
    assert f"  + instance {EXTRA}\n" in out
    assert f"        + Properties.Replicas[Region={EXTRA}]: " in out
    assert f"        note: replica added in {EXTRA} (in place, no replacement)" in out
    assert "    + ReplicationLatencyEuWest1Alarm (AWS::CloudWatch::Alarm)\n" in out
    assert "STATEFUL" not in out
    _assert_read_only(calls)


@pytest.fixture(scope="module")
def key_change_build(work: Path) -> str:
    """The build a rename of the table's key in templates_src/data.py would produce."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data, "PARTITION_KEY", "payment_ref")
        return _build(work, "build-key")


@pytest.mark.integration
def test_plan_of_a_table_key_change_flags_a_stateful_replacement(
    args, key_change_build, monkeypatch
):
    code, out, calls = _plan([*args, "--build-dir", key_change_build], monkeypatch)

    assert code == 0
    assert f"    ~ PaymentsTable (AWS::DynamoDB::GlobalTable)  {plan.MAY_STATEFUL_MARK}\n" in out
    assert (
        '        ~ Properties.KeySchema[0].AttributeName: "payment_id" -> "payment_ref"'
        "  [may replace: /properties/KeySchema]\n"
    ) in out
    assert "named by TableName (unchanged)" in out
    assert "1 stateful resource(s) replaced or deleted" in out
    assert "deploy refuses this without --allow-replacement" in out
    _assert_read_only(calls)


@pytest.mark.integration
def test_plan_as_users_run_it_prints_plain_markers_when_not_on_a_terminal(args, key_change_build):
    result = run_cli("deploy.py", [*args, "--build-dir", key_change_build, "--plan"])

    assert result.code == 0, result.err
    assert plan.MAY_STATEFUL_MARK in result.out
    assert "\033[" not in result.out


@pytest.mark.integration
def test_deploy_refuses_a_stateful_replacement_without_the_flag(aws, args, key_change_build):
    aws("dynamodb").put_item(TableName=TABLE, Item={"payment_id": {"S": "p-1"}})
    held = aws("cloudformation").describe_stack_set(StackSetName=PRIMARY_SET)["StackSet"]
    before = {name: operation_count(aws, name) for name in (REPLICA_SET, PRIMARY_SET)}

    result = run_deploy([*args, "--build-dir", key_change_build])

    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1
    assert f"{PRIMARY_SET} PaymentsTable (AWS::DynamoDB::GlobalTable, replaced)" in result.err
    assert "--allow-replacement" in result.err
    assert plan.MAY_STATEFUL_MARK in result.out  # the plan came first
    assert {name: operation_count(aws, name) for name in before} == before
    now = aws("cloudformation").describe_stack_set(StackSetName=PRIMARY_SET)["StackSet"]
    assert now["TemplateBody"] == held["TemplateBody"]
    for region in (PRIMARY, REPLICA):
        assert _key(aws, region) == [{"AttributeName": "payment_id", "KeyType": "HASH"}]
    assert aws("dynamodb").get_item(TableName=TABLE, Key={"payment_id": {"S": "p-1"}})["Item"]


@pytest.mark.integration
def test_with_the_flag_deploy_goes_ahead_and_cloudformation_refuses_the_named_table(
    aws, args, key_change_build
):
    before = operation_count(aws, PRIMARY_SET)

    result = run_deploy([*args, "--build-dir", key_change_build, "--allow-replacement"])

    # The update is started; as in AWS, a table keeping its TableName cannot be replaced, so
    # the instance fails, which the plan said it would.
    assert result.code == 1
    assert operation_count(aws, PRIMARY_SET) == before + 1
    latest = aws("cloudformation").list_stack_set_operations(StackSetName=PRIMARY_SET)
    assert (latest["Summaries"][-1]["Action"], latest["Summaries"][-1]["Status"]) == (
        "UPDATE",
        "FAILED",
    )
    assert PRIMARY in result.err and "custom-named resource requires replacing" in result.err
    assert _key(aws, PRIMARY) == [{"AttributeName": "payment_id", "KeyType": "HASH"}]
    assert aws("dynamodb").get_item(TableName=TABLE, Key={"payment_id": {"S": "p-1"}})["Item"]
