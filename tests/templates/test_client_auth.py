"""Issue 15, "Clients are authenticated, one by one", where it is static: the templates.

* ``iam`` (the default): ``POST /process`` is ``AWS_IAM`` ("Control access to a REST API with IAM
  permissions") and the REST API's resource policy lets only this account's client roles
  invoke it ("API Gateway resource policies");
* ``mtls``: the custom domain verifies client certificates against the truststore in S3
  ("Configuring mutual TLS authentication for a REST API") and the handler checks them;
* in both: no API key, no usage plan, no secret; stage throttling with the configured limits.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest

from scripts.emulator.iam_policy import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Request, evaluate
from templates_src.boundary import permissions_boundary_document
from templates_src.build import render
from templates_src.clients import build_client
from templates_src.config import ConfigError, from_inputs
from templates_src.regions import build_primary, build_standby

from .conftest import of_type

GONE = (
    "AWS::ApiGateway::ApiKey",
    "AWS::ApiGateway::UsagePlan",
    "AWS::ApiGateway::UsagePlanKey",
    "AWS::SecretsManager::Secret",
)
CLIENT_ROLES = (
    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/payment-${EnvironmentSuffix}-client-*"
)


@pytest.fixture(scope="module")
def mtls() -> dict[str, dict]:
    config = from_inputs(client_auth="mtls", domain_name="pay.example.com")
    return {
        "primary": json.loads(render(build_primary(config))),
        "standby": json.loads(render(build_standby(config))),
    }


def _statements(template: dict) -> dict[str, dict]:
    policy = template["Resources"]["PaymentApi"]["Properties"]["Policy"]
    return {s["Sid"]: s for s in policy["Statement"]}


@pytest.mark.parametrize("which", ["primary", "replica", "standby"])
def test_no_shared_secret_remains(which, request):
    template = request.getfixturevalue(which)
    for resource_type in GONE:
        assert of_type(template, resource_type) == {}, resource_type
    text = json.dumps(template)
    assert "secretsmanager" not in text and "apiKey" not in text
    assert "ApiKeySourceType" not in text


@pytest.mark.parametrize("which", ["primary", "standby"])
def test_only_client_roles_of_this_account_may_process(which, request):
    template = request.getfixturevalue(which)
    statements = _statements(template)
    deny = statements["OnlyClientRolesMayProcess"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*"
    assert deny["Resource"] == "execute-api:/prod/POST/process"
    assert deny["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": {"Fn::Sub": CLIENT_ROLES}}}
    allow = statements["AccountPrincipalsMayProcess"]
    assert allow["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    }
    # Route 53 health checkers sign nothing: GET /health is the one open route.
    assert statements["HealthCheckersMayProbe"]["Resource"] == "execute-api:/prod/GET/health"
    opened = [
        s["Resource"]
        for s in statements.values()
        if s["Principal"] == "*" and s["Effect"] == "Allow"
    ]
    assert opened == ["execute-api:/prod/GET/health"]


def test_stage_throttling_keeps_the_configured_limits(primary, config):
    settings = primary["Resources"]["ApiStage"]["Properties"]["MethodSettings"]
    assert settings
    for setting in settings:
        assert setting["ThrottlingRateLimit"] == config.api_limits.rate_limit == 50.0
        assert setting["ThrottlingBurstLimit"] == config.api_limits.burst_limit == 100


def test_the_processor_knows_the_mode_and_the_client_role_prefix(primary, mtls):
    variables = primary["Resources"]["ProcessorFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["CLIENT_AUTH"] == "iam"
    assert variables["CLIENT_ROLE_PREFIX"] == {"Fn::Sub": "payment-${EnvironmentSuffix}-client-"}
    mtls_variables = mtls["standby"]["Resources"]["ProcessorFunction"]["Properties"]["Environment"]
    assert mtls_variables["Variables"]["CLIENT_AUTH"] == "mtls"


def test_the_access_log_names_the_caller(primary, mtls):
    def fields(template: dict) -> dict:
        stage = template["Resources"]["ApiStage"]["Properties"]
        return json.loads(stage["AccessLogSetting"]["Format"])

    assert fields(primary)["userArn"] == "$context.identity.userArn"
    assert (
        fields(mtls["primary"])["clientCertSubjectDN"] == "$context.identity.clientCert.subjectDN"
    )
    assert "apiKeyId" not in fields(primary)


@pytest.mark.parametrize(
    ("which", "bucket"),
    [("primary", "${ArtifactBucketName}"), ("standby", "${ArtifactBucketPrefix}-us-east-1")],
)
def test_mtls_verifies_certificates_on_the_domain_with_the_primary_truststore(mtls, which, bucket):
    template = mtls[which]
    domain = template["Resources"]["ApiDomainName"]["Properties"]
    assert domain["MutualTlsAuthentication"] == {
        "TruststoreUri": {"Fn::Sub": f"s3://{bucket}/truststore/clients.pem"},
        "TruststoreVersion": {"Ref": "TruststoreVersion"},
    }
    # No default: the stack cannot be made without naming the truststore version it trusts.
    assert "Default" not in template["Parameters"]["TruststoreVersion"]
    rule = template["Rules"]["MutualTlsNeedsTheDomain"]["Assertions"][0]["Assert"]
    assert rule == {"Fn::Not": [{"Fn::Equals": [{"Ref": "DomainName"}, ""]}]}
    method = template["Resources"]["ProcessPostMethod"]["Properties"]
    assert (method["AuthorizationType"], method["ApiKeyRequired"]) == ("NONE", False)


def test_iam_mode_has_no_truststore(primary):
    assert "MutualTlsAuthentication" not in primary["Resources"]["ApiDomainName"]["Properties"]
    assert "TruststoreVersion" not in primary["Parameters"]


@pytest.mark.parametrize(
    ("inputs", "reason"),
    [
        ({"client_auth": "mtls"}, "needs a custom domain"),
        ({"client_auth": "mtls", "domain_name": "  "}, "needs a custom domain"),
        ({"client_auth": "apikey"}, "client authentication 'apikey'"),
    ],
)
def test_mtls_without_a_domain_is_a_configuration_error(inputs, reason):
    with pytest.raises(ConfigError, match=reason):
        from_inputs(**inputs)


def test_iam_is_the_default_with_or_without_a_domain():
    assert from_inputs().client_auth == "iam"
    assert from_inputs(domain_name="pay.example.com").client_auth == "iam"


def test_the_client_template_makes_roles_that_the_resource_policy_admits(primary, config):
    client = json.loads(render(build_client(config)))
    role = client["Resources"]["ClientRole"]["Properties"]
    name = (
        role["RoleName"]["Fn::Sub"]
        .replace("${EnvironmentSuffix}", "dev")
        .replace("${ClientId}", "acme")
    )
    arn = f"arn:aws:iam::123456789012:role/{name}"
    pattern = _statements(primary)["OnlyClientRolesMayProcess"]["Condition"]["ArnNotLike"]
    admitted = pattern["aws:PrincipalArn"]["Fn::Sub"]
    admitted = admitted.replace("${AWS::Partition}", "aws").replace(
        "${AWS::AccountId}", "123456789012"
    )
    assert fnmatch.fnmatchcase(arn, admitted.replace("${EnvironmentSuffix}", "dev"))
    assert not fnmatch.fnmatchcase(arn, admitted.replace("${EnvironmentSuffix}", "prod"))
    # ... and the handler reads the client id back after CLIENT_ROLE_PREFIX.
    prefix = primary["Resources"]["ProcessorFunction"]["Properties"]["Environment"]["Variables"][
        "CLIENT_ROLE_PREFIX"
    ]["Fn::Sub"].replace("${EnvironmentSuffix}", "dev")
    assert name == prefix + "acme"
    (statement,) = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["execute-api:Invoke"]
    assert [r["Fn::Sub"] for r in statement["Resource"]] == [
        f"arn:${{AWS::Partition}}:execute-api:{region}:${{AWS::AccountId}}:*/prod/POST/process"
        for region in ("us-east-1", "us-west-2")
    ]
    assert role["MaxSessionDuration"] == 3600
    assert "PermissionsBoundary" in role


# -- the policies as IAM evaluates them ("Policy evaluation logic", IAM User Guide) ----------

ACCOUNT = "123456789012"
API_ARN = f"arn:aws:execute-api:us-east-1:{ACCOUNT}:a1b2c3d4e5"


def _resolved(value: Any) -> Any:
    """Sub of the pseudo parameters and the suffix (``dev``) in a policy document."""
    if isinstance(value, list):
        return [_resolved(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"Fn::Sub"}:
            text = value["Fn::Sub"]
            for name, replacement in (
                ("${AWS::Partition}", "aws"),
                ("${AWS::AccountId}", ACCOUNT),
                ("${EnvironmentSuffix}", "dev"),
            ):
                text = text.replace(name, replacement)
            return text
        return {k: _resolved(v) for k, v in value.items()}
    if isinstance(value, str) and value.startswith("execute-api:/"):
        # "API Gateway resource policies": execute-api:/ stands for the API's own ARN.
        return value.replace("execute-api:", API_ARN, 1)
    return value


def _api_decision(principal_arn: str, route: str = "POST/process") -> str:
    policy = _resolved(build_primary_policy())
    account = principal_arn.split(":")[4]
    request = Request(
        action="execute-api:Invoke",
        resource=f"{API_ARN}/prod/{route}",
        context={"aws:PrincipalArn": principal_arn},
        principal={"AWS": f"arn:aws:iam::{account}:root"},
    )
    return evaluate(request, [policy]).result


def build_primary_policy() -> dict:
    template = json.loads(render(build_primary(from_inputs())))
    return template["Resources"]["PaymentApi"]["Properties"]["Policy"]


@pytest.mark.parametrize(
    ("principal", "route", "expected"),
    [
        (f"arn:aws:iam::{ACCOUNT}:role/payment-dev-client-acme", "POST/process", ALLOW),
        (
            f"arn:aws:iam::{ACCOUNT}:role/payment-dev-processor-us-east-1",
            "POST/process",
            EXPLICIT_DENY,
        ),
        (f"arn:aws:iam::{ACCOUNT}:role/payment-prod-client-acme", "POST/process", EXPLICIT_DENY),
        (f"arn:aws:iam::{ACCOUNT}:user/payment-dev-client-acme", "POST/process", EXPLICIT_DENY),
        ("arn:aws:iam::210987654321:role/payment-dev-client-acme", "POST/process", EXPLICIT_DENY),
        ("arn:aws:iam::210987654321:role/route53-checker", "GET/health", ALLOW),
        (f"arn:aws:iam::{ACCOUNT}:role/payment-dev-client-acme", "GET/payments", IMPLICIT_DENY),
    ],
)
def test_the_resource_policy_admits_only_this_environments_client_roles(principal, route, expected):
    assert _api_decision(principal, route) == expected


def test_a_client_role_may_invoke_process_in_every_region_and_nothing_else():
    client = json.loads(render(build_client(from_inputs())))
    role = client["Resources"]["ClientRole"]["Properties"]
    policy = _resolved(role["Policies"][0]["PolicyDocument"])
    boundary = json.loads(permissions_boundary_document().to_json())

    def decision(action: str, resource: str) -> str:
        return evaluate(Request(action=action, resource=resource), [policy], boundary).result

    for region in ("us-east-1", "us-west-2"):
        arn = f"arn:aws:execute-api:{region}:{ACCOUNT}:a1b2c3d4e5/prod/POST/process"
        assert decision("execute-api:Invoke", arn) == ALLOW
    assert decision("execute-api:Invoke", f"{API_ARN}/prod/GET/health") == IMPLICIT_DENY
    assert decision("dynamodb:PutItem", "*") == IMPLICIT_DENY
