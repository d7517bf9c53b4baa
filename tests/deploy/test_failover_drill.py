"""The failover drill against one emulator deployment with a custom domain, checked through boto3.

One deploy for the module (pay.example.com in the zone example.com); the tests run in file order:
a full drill, interrupted drills, a drill refused because the check is already inverted, a drill
refused because the record pair is broken (last: it deletes the SECONDARY record). The AWS mode's
probe logic runs against the emulator with the domain's answer simulated from the health check.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from handler.audit_key import AUDIT_KEY_PREFIX, audit_key
from payment_ops.commands import failover_drill
from payment_ops.deployment import clients
from payment_ops.deployment.aws import Aws as DrillAws
from payment_ops.drill import inversion, probes
from payment_ops.localapi.iam_auth import SESSION_PATH
from templates_src import config as config_module
from templates_src import names

from .conftest import ACCOUNT, PRIMARY, REPLICA, deploy_args, run_cli, run_deploy

pytestmark = pytest.mark.integration

SUFFIX = "drill"
ZONE = "example.com"
DOMAIN = f"pay.{ZONE}"
TABLE = names.table(SUFFIX)
AUDIT_BUCKET = names.audit_bucket(SUFFIX, ACCOUNT, REPLICA)
PAYMENTS = 3


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("failover-drill")


@pytest.fixture(scope="module")
def deployed(emulator, aws, work: Path) -> dict[str, str]:
    """One deployment with the domain; its flat outputs."""
    zone = aws("route53").create_hosted_zone(Name=ZONE, CallerReference="failover-drill-tests")
    zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
    result = run_deploy(
        deploy_args(
            emulator.url,
            SUFFIX,
            work,
            "--bootstrap",
            "--domain-name",
            DOMAIN,
            "--hosted-zone-id",
            zone_id,
        )
    )
    assert result.code == 0, result.err
    outputs = json.loads((work / "flat-outputs.json").read_text())
    return {**outputs, "HostedZoneId": zone_id}


def drill(emulator, *extra: str, hooks: failover_drill.Hooks | None = None) -> tuple[int, str]:
    out = io.StringIO()
    argv = ["--endpoint-url", emulator.url, "--environment-suffix", SUFFIX, *extra]
    return failover_drill.main(argv, out=out, hooks=hooks), out.getvalue()


def inverted(aws, health_check_id: str) -> bool:
    check = aws("route53").get_health_check(HealthCheckId=health_check_id)["HealthCheck"]
    return bool(check["HealthCheckConfig"]["Inverted"])


def drill_items(aws, region: str) -> list[dict]:
    items = aws("dynamodb", region).scan(TableName=TABLE)["Items"]
    return [i for i in items if i["customer_id"]["S"] == "failover-drill"]


def test_drill_fails_over_to_the_secondary_and_restores(emulator, aws, deployed, work, capsys):
    primary_check = deployed["HealthCheckId"]
    report_path = work / "report.json"
    code, out = drill(emulator, "--payments", str(PAYMENTS), "--report", str(report_path))
    assert code == 0, out + capsys.readouterr().err

    report = json.loads(report_path.read_text())
    assert report["mode"] == "emulator"
    assert report["regions"] == {"primary": PRIMARY, "secondary": REPLICA}
    assert report["domain"] == DOMAIN
    assert report["health_check_ids"] == {
        "primary": primary_check,
        "secondary": deployed[f"{REPLICA}.HealthCheckId"],
    }
    assert report["payments"] == {
        "sent": PAYMENTS,
        "accepted": PAYMENTS,
        "found_in_table": PAYMENTS,
        "found_in_audit_bucket": PAYMENTS,
    }
    assert report["seconds_to_failover"] is None and report["seconds_to_failback"] is None
    assert report["replication_latency_ms"] is None  # nothing replicates in the emulator
    assert {c["result"] for c in report["checks"]} == {"pass"}
    assert report["result"] == "pass" and report["exit_code"] == 0

    # What AWS holds, not what the drill says: the payments in the secondary region's table...
    items = drill_items(aws, REPLICA)
    assert len(items) == PAYMENTS
    # ... and each one audited in the secondary region's bucket, dated by the payment.
    keys = {
        o["Key"]
        for o in aws("s3", REPLICA).list_objects_v2(Bucket=AUDIT_BUCKET, Prefix=AUDIT_KEY_PREFIX)[
            "Contents"
        ]
    }
    for item in items:
        created = datetime.strptime(item["created_at"]["S"][:10], "%Y-%m-%d")
        assert audit_key(item["payment_id"]["S"], created) in keys
    assert not inverted(aws, primary_check)

    # Each payment was signed by the drill's client, and recorded as its payment.
    assert {item["client_id"]["S"] for item in items} == {probes.DRILL_CLIENT_ID}
    # The session's secret never reaches the output or the report.
    # (The emulator's own account of the sessions it issued: payment_ops.emulator.sessions.)
    role = clients.stack_name(SUFFIX, probes.DRILL_CLIENT_ID)  # the stack is named as its role
    role_arn = aws("iam").get_role(RoleName=role)["Role"]["Arn"]
    query = urllib.parse.urlencode({"account": ACCOUNT, "role_arn": role_arn})
    with urllib.request.urlopen(f"{emulator.url}{SESSION_PATH}?{query}", timeout=10) as answer:
        secrets = [s["secret_access_key"] for s in json.load(answer)["sessions"]]
    assert secrets
    shown = out + capsys.readouterr().err + report_path.read_text()
    assert not [secret for secret in secrets if secret in shown]


def test_the_report_gives_the_recovery_point_from_the_replication_latency_metric(
    emulator, aws, deployed, work
):
    # The emulator does not replicate: publish what DynamoDB would, where the alarm reads it.
    samples = [120.0, 480.0, 240.0]
    aws("cloudwatch", PRIMARY).put_metric_data(
        Namespace="AWS/DynamoDB",
        MetricData=[
            {
                "MetricName": "ReplicationLatency",
                "Dimensions": [
                    {"Name": "TableName", "Value": TABLE},
                    {"Name": "ReceivingRegion", "Value": REPLICA},
                ],
                "Value": value,
                "Unit": "Milliseconds",
            }
            for value in samples
        ],
    )
    report_path = work / "latency.json"
    code, out = drill(emulator, "--payments", "1", "--report", str(report_path))

    assert code == 0, out
    latency = json.loads(report_path.read_text())["replication_latency_ms"]
    assert latency == {
        "receiving_region": REPLICA,
        "average": sum(samples) / len(samples),
        "maximum": max(samples),
        "samples": len(samples),
        "window_minutes": 60,
    }
    assert f"replication latency to {REPLICA}" in out and "maximum 480 ms" in out


def test_one_command_starts_its_own_emulator_deploys_and_drills(deployed, work):
    """The default mode as users run it: a process of its own (so its own emulator state), the
    module's build reused (a copy: the deploy writes its outputs next to it)."""
    own = work / "own"
    shutil.copytree(work / "build", own / "build")
    report_path = own / "report.json"
    result = run_cli(
        "failover_drill.py",
        ["--environment-suffix", SUFFIX, "--build-dir", str(own / "build"),
         "--payments", "2", "--report", str(report_path)],
    )  # fmt: skip
    assert result.code == 0, result.out + result.err
    assert "emulator: http://127.0.0.1:" in result.out
    assert f"deployed: API https://{DOMAIN}" in result.out
    report = json.loads(report_path.read_text())
    assert report["regions"]["secondary"] == REPLICA
    assert report["payments"]["found_in_audit_bucket"] == 2
    assert report["result"] == "pass"


@pytest.mark.parametrize("signum, exit_code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_the_drill_restores_the_check(emulator, aws, deployed, signum, exit_code):
    primary_check = deployed["HealthCheckId"]
    seen = []
    handlers = {s: signal.getsignal(s) for s in inversion.SIGNALS}

    def deliver_signal() -> None:
        seen.append(inverted(aws, primary_check))
        os.kill(os.getpid(), signum)  # a real signal, as Ctrl-C or `kill` would send

    before = len(drill_items(aws, REPLICA))
    code, out = drill(emulator, hooks=failover_drill.Hooks(after_inversion=deliver_signal))
    assert seen == [True]  # it was inverted when the signal came
    assert code == exit_code
    assert not inverted(aws, primary_check)
    assert "restored health check" in out
    assert len(drill_items(aws, REPLICA)) == before  # stopped before any payment
    assert {s: signal.getsignal(s) for s in inversion.SIGNALS} == handlers


def test_a_second_signal_during_the_restore_does_not_cut_it_short(
    emulator, aws, deployed, monkeypatch
):
    primary_check = deployed["HealthCheckId"]
    real_restore = inversion.restore
    confirmed = []

    def impatient_restore(*args, **kwargs) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C again, while the check is still inverted
        real_restore(*args, **kwargs)
        confirmed.append(inverted(aws, primary_check))

    monkeypatch.setattr(inversion, "restore", impatient_restore)
    code, out = drill(
        emulator,
        hooks=failover_drill.Hooks(after_inversion=lambda: os.kill(os.getpid(), signal.SIGINT)),
    )
    assert code == 130
    assert confirmed == [False]
    assert "restored health check" in out


def test_an_already_inverted_check_stops_the_drill_and_restore_fixes_it(
    emulator, aws, deployed, capsys
):
    primary_check = deployed["HealthCheckId"]
    aws("route53").update_health_check(HealthCheckId=primary_check, Inverted=True)
    version = aws("route53").get_health_check(HealthCheckId=primary_check)["HealthCheck"][
        "HealthCheckVersion"
    ]
    before = len(drill_items(aws, REPLICA))

    code, _ = drill(emulator)
    err = capsys.readouterr().err
    assert code == 2
    assert "already inverted" in err and "--restore" in err
    check = aws("route53").get_health_check(HealthCheckId=primary_check)["HealthCheck"]
    assert check["HealthCheckConfig"]["Inverted"] is True  # nothing changed
    assert check["HealthCheckVersion"] == version
    assert len(drill_items(aws, REPLICA)) == before

    code, out = drill(emulator, "--restore")
    assert code == 0, capsys.readouterr().err
    assert not inverted(aws, primary_check)
    assert len(drill_items(aws, REPLICA)) == before  # --restore only restores


def test_aws_mode_times_the_switch_both_ways(emulator, aws, deployed, work, monkeypatch):
    """The AWS mode's steps against the emulator: the domain's answer is simulated from the
    primary check's state, as Route 53 would answer once it notices the inversion."""
    primary_check = deployed["HealthCheckId"]
    asked = []

    def served_region(url: str) -> str:
        asked.append(url)
        return REPLICA if inverted(aws, primary_check) else PRIMARY

    monkeypatch.setattr(probes, "served_region", served_region)
    config = config_module.from_inputs(environment_suffix=SUFFIX)
    args = failover_drill.parser().parse_args(
        ["--aws", "--interval", "0.01", "--timeout", "5", "--report", str(work / "aws.json")]
    )
    out = io.StringIO()
    code = failover_drill.drill(
        DrillAws(emulator.url), config, "aws", args, out, failover_drill.Hooks()
    )
    assert code == 0, out.getvalue()
    report = json.loads((work / "aws.json").read_text())
    assert report["mode"] == "aws" and report["payments"] is None
    assert 0 <= report["seconds_to_failover"] < 5 and 0 <= report["seconds_to_failback"] < 5
    assert set(asked) == {f"https://{DOMAIN}/health"}
    assert not inverted(aws, primary_check)


def test_aws_mode_gives_up_after_the_timeout_and_restores(emulator, aws, deployed, monkeypatch):
    primary_check = deployed["HealthCheckId"]
    monkeypatch.setattr(probes, "served_region", lambda url: PRIMARY)  # never fails over
    config = config_module.from_inputs(environment_suffix=SUFFIX)
    args = failover_drill.parser().parse_args(["--aws", "--interval", "0.01", "--timeout", "0.1"])
    out = io.StringIO()
    code = failover_drill.drill(
        DrillAws(emulator.url), config, "aws", args, out, failover_drill.Hooks()
    )
    assert code == 1
    assert "domain fails over to the secondary  FAIL" in out.getvalue()
    assert not inverted(aws, primary_check)


def test_a_primary_record_with_the_wrong_health_check_stops_the_drill(
    emulator, aws, deployed, monkeypatch, capsys
):
    route53 = aws("route53")
    zone_id = deployed["HostedZoneId"]
    records = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    [primary] = [r for r in records if r.get("Failover") == "PRIMARY"]
    wrong = {**primary, "HealthCheckId": deployed[f"{REPLICA}.HealthCheckId"]}
    inversions = []
    monkeypatch.setattr(inversion, "set_inverted", lambda *args: inversions.append(args))
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": wrong}]},
    )
    try:
        code, _ = drill(emulator)
    finally:
        route53.change_resource_record_sets(
            HostedZoneId=zone_id,
            ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": primary}]},
        )
    err = capsys.readouterr().err
    assert code == 1
    assert (
        f"the PRIMARY record carries health check {deployed[f'{REPLICA}.HealthCheckId']}, "
        f"not {PRIMARY}'s {deployed['HealthCheckId']}"
    ) in err
    assert inversions == []


def test_a_broken_record_pair_stops_the_drill_before_anything_changes(
    emulator, aws, deployed, monkeypatch, capsys
):
    """Last: deletes the SECONDARY record."""
    route53 = aws("route53")
    zone_id = deployed["HostedZoneId"]
    records = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    [secondary] = [r for r in records if r.get("Failover") == "SECONDARY"]
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": secondary}]},
    )
    assert [
        r
        for r in route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        if r.get("Failover") == "SECONDARY"
    ] == []
    inversions = []
    monkeypatch.setattr(
        inversion, "set_inverted", lambda *args: inversions.append(args)
    )  # any call at all would be a change

    code, _ = drill(emulator)
    err = capsys.readouterr().err
    assert code == 1
    assert f"failover-drill: {DOMAIN}: 0 SECONDARY A record(s)" in err
    assert inversions == []
    assert not inverted(aws, deployed["HealthCheckId"])


def test_bad_arguments_exit_2_before_any_call(capsys):
    with pytest.raises(SystemExit) as exited:
        failover_drill.main(["--aws", "--endpoint-url", "http://127.0.0.1:1"])
    assert exited.value.code == 2
    assert failover_drill.main(["--restore"]) == 2
    assert failover_drill.main(["--payments", "0", "--endpoint-url", "http://127.0.0.1:1"]) == 2
    assert failover_drill.main(["--environment-suffix", "Bad!", "--aws"]) == 2
