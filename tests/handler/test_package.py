"""Properties of the package as deployed: bounded latency, no third-party runtime
dependencies, clients built at load, importable without configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from handler import stream_lookup
from handler.app import deadline
from handler.config import (
    API_GATEWAY_TIMEOUT_S,
    DYNAMODB_CLIENT_CONFIG,
    RESPONSE_MARGIN_S,
    S3_CLIENT_CONFIG,
    SETTLE_CLIENT_CONFIG,
    request_worst_case_seconds,
    worst_case_seconds,
)
from handler.http import parse_event

REPO = Path(__file__).resolve().parents[2]
# "Amazon API Gateway quotas": integration timeout 50 ms - 29 s for REST APIs (the default).
API_GATEWAY_INTEGRATION_TIMEOUT_S = 29
LAMBDA_TIMEOUT_S = 60


def test_a_request_gives_up_before_api_gateway_does() -> None:
    # Worst case: the write with retries, then either the read-back of a condition failure
    # without the item, or the settling read and write of an unknown outcome.
    assert API_GATEWAY_TIMEOUT_S == API_GATEWAY_INTEGRATION_TIMEOUT_S
    worst = request_worst_case_seconds()
    assert worst >= worst_case_seconds(DYNAMODB_CLIENT_CONFIG, calls=2)
    assert worst >= worst_case_seconds(DYNAMODB_CLIENT_CONFIG) + worst_case_seconds(
        SETTLE_CLIENT_CONFIG, calls=2
    )
    assert worst + RESPONSE_MARGIN_S < API_GATEWAY_INTEGRATION_TIMEOUT_S


def test_settling_calls_are_single_attempts() -> None:
    # Once a settling call has raised, no attempt of it can still be on its way to the table.
    assert SETTLE_CLIENT_CONFIG.retries["total_max_attempts"] == 1


def _deadline(event: dict, remaining_ms: int | None = None) -> float:
    context = SimpleNamespace()
    if remaining_ms is not None:
        context.get_remaining_time_in_millis = lambda: remaining_ms
    return deadline(parse_event(event), context, monotonic=lambda: 100.0, wall_clock=lambda: 1e9)


def test_the_deadline_counts_from_when_api_gateway_received_the_request() -> None:
    # Received 5 s ago (a cold start, say): 24 s are left of API Gateway's 29, less the margin.
    received = {"requestContext": {"requestTimeEpoch": 1e12 - 5000}}
    assert _deadline(received) == 100.0 + API_GATEWAY_TIMEOUT_S - 5 - RESPONSE_MARGIN_S
    # Without that time, 29 s from now; never beyond the Lambda timeout either.
    assert _deadline({}) == 100.0 + API_GATEWAY_TIMEOUT_S - RESPONSE_MARGIN_S
    assert _deadline({}, remaining_ms=10_000) == 100.0 + 10 - RESPONSE_MARGIN_S
    # A clock that runs behind API Gateway's never grants more than 29 s.
    assert _deadline({"requestContext": {"requestTimeEpoch": 1e12 + 60_000}}) == _deadline({})


def test_one_audit_write_fits_well_inside_the_lambda_timeout() -> None:
    assert worst_case_seconds(S3_CLIENT_CONFIG) < LAMBDA_TIMEOUT_S / 2


def test_the_table_stream_lookup_answers_cloudformation_before_its_lambda_times_out() -> None:
    # A custom resource that times out unanswered holds the stack for an hour.
    lookup = worst_case_seconds(DYNAMODB_CLIENT_CONFIG)
    response = stream_lookup.RESPONSE_WORST_CASE_S + stream_lookup.DEADLINE_MARGIN_S
    assert lookup + response < LAMBDA_TIMEOUT_S


def run_python(code: str, env: dict[str, str]) -> str:
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO), "HOME": "/nonexistent"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_the_package_needs_nothing_beyond_the_standard_library_and_boto3() -> None:
    """Whatever boto3 itself loads is in the Lambda runtime; anything more would have to be
    vendored into the zip."""
    code = (
        "import sys, json, boto3, boto3.dynamodb.types\n"
        "boto3.client('dynamodb', region_name='us-east-1')\n"
        "boto3.client('s3', region_name='us-east-1')\n"
        "before = set(sys.modules)\n"
        "import handler.app, handler.audit, handler.stream_lookup\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in set(sys.modules) - before})))\n"
    )
    added = set(json.loads(run_python(code, {}).splitlines()[-1]))

    assert added - set(sys.stdlib_module_names) == {"handler"}


def test_clients_are_built_while_the_module_loads() -> None:
    env = {
        "AWS_REGION": "eu-west-1",
        "TABLE_NAME": "payment-dev-payments",
        "ENVIRONMENT_SUFFIX": "dev",
        "CLIENT_AUTH": "iam",
        "CLIENT_ROLE_PREFIX": "payment-dev-client-",
        "AUDIT_BUCKET": "payment-dev-audit",
        "AUDIT_KMS_KEY_ARN": "arn:aws:kms:eu-west-1:123456789012:key/abc",
    }
    code = (
        "import handler.app as app, handler.audit as audit, handler.stream_lookup as lookup\n"
        "print(app._runtime.peek().store.client.meta.region_name,"
        " audit._runtime.peek().s3.meta.region_name,"
        " lookup._runtime.peek().dynamodb.meta.region_name)\n"
    )

    assert run_python(code, env).split() == ["eu-west-1", "eu-west-1", "eu-west-1"]


def test_without_configuration_the_module_imports_and_requests_get_500() -> None:
    code = (
        "import json, handler.app as app\n"
        "event = {'httpMethod': 'POST', 'resource': '/process', 'body': '{}'}\n"
        "class Context: aws_request_id = 'req-123'\n"
        "event['body'] = json.dumps({'amount': '1', 'currency': 'USD', 'customer_id': 'c',"
        " 'payment_method': 'card'})\n"
        "print(json.dumps(app.lambda_handler(event, Context())))\n"
    )
    lines = [json.loads(line) for line in run_python(code, {}).splitlines()]

    response = lines[-1]
    assert response["statusCode"] == 500
    assert json.loads(response["body"])["error"] == {
        "code": "INTERNAL_ERROR",
        "message": "an unexpected error occurred; quote the request_id when reporting it",
        "request_id": "req-123",
    }
    logged = "\n".join(json.dumps(line) for line in lines[:-1])
    assert "TABLE_NAME" in logged and "ENVIRONMENT_SUFFIX" in logged


def _service_model_without(service: str, shape: str, member: str, into: Path) -> None:
    """Copy botocore's own model of ``service`` with one request member removed, where
    botocore's loader looks first (AWS_DATA_PATH): what an older runtime SDK looks like."""
    import gzip

    import botocore

    data = Path(botocore.__file__).parent / "data" / service
    [version] = [d for d in data.iterdir() if (d / "service-2.json.gz").exists()]
    model = json.loads(gzip.decompress((version / "service-2.json.gz").read_bytes()))
    del model["shapes"][shape]["members"][member]
    target = into / service / version.name
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(model))


def _init_with(env: dict[str, str], module: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO), "HOME": "/nonexistent"}
    configured = {
        "AWS_REGION": "eu-west-1",
        "TABLE_NAME": "payment-dev-payments",
        "ENVIRONMENT_SUFFIX": "dev",
        "CLIENT_AUTH": "iam",
        "CLIENT_ROLE_PREFIX": "payment-dev-client-",
        "AUDIT_BUCKET": "payment-dev-audit",
        "AUDIT_KMS_KEY_ARN": "arn:aws:kms:eu-west-1:123456789012:key/abc",
    }
    return subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        env={**base, **configured, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("service", "shape", "member", "module"),
    [
        ("dynamodb", "PutItemInput", "ReturnValuesOnConditionCheckFailure", "handler.app"),
        ("s3", "PutObjectRequest", "IfNoneMatch", "handler.audit"),
    ],
)
def test_an_sdk_without_a_member_the_code_sends_fails_init_with_one_line(
    tmp_path: Path, service: str, shape: str, member: str, module: str
) -> None:
    _service_model_without(service, shape, member, tmp_path)

    result = _init_with({"AWS_DATA_PATH": str(tmp_path)}, module)

    assert result.returncode != 0  # Lambda reports the init as failed; no request is served
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    [line] = [line for line in lines if line["message"] == "sdk feature missing"]
    assert line["level"] == "ERROR"
    assert member in line["error"] and "botocore" in line["error"]
    assert "SdkFeatureMissing" in result.stderr


def test_the_pinned_sdk_has_every_member_the_code_sends() -> None:
    for module in ("handler.app", "handler.audit"):
        result = _init_with({}, module)
        assert result.returncode == 0, result.stderr
        assert "sdk feature missing" not in result.stdout
