"""Issue 15, "Clients are authenticated, one by one": the handler names the registered client
that API Gateway authenticated and refuses everyone else with 403 CLIENT_NOT_AUTHORIZED.

Events are shaped as API Gateway's REST proxy integration sends them: ``identity.userArn``
for a SigV4-signed request ("Control access to a REST API with IAM permissions"),
``identity.clientCert`` for a request through a custom domain with mutual TLS ("Configuring
mutual TLS authentication for a REST API").
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from handler import app
from handler.clients import common_name

from .conftest import ACCOUNT, VALID_BODY, api_event, invoke, new_key, post, scan_items

pytestmark = pytest.mark.usefixtures("table")


def assert_refused(response: Any) -> None:
    assert response.status == 403, response.body
    assert response.body["error"]["code"] == "CLIENT_NOT_AUTHORIZED"
    assert scan_items() == []


# -- IAM (the default) -----------------------------------------------------------------------


def test_a_request_signed_by_a_client_role_session_is_that_clients_payment() -> None:
    response = post(VALID_BODY, client="acme")

    assert response.status == 201
    [item] = scan_items()
    assert item["client_id"] == {"S": "acme"}


def test_the_idempotency_scope_is_the_client_id_the_same_in_every_region() -> None:
    # payment-id/v3: sha256("payment-id/v3" NUL client_id NUL key); the standby region and
    # the local API must derive the same id for a replay to find the payment.
    key = "order-0001-retry"
    response = post(VALID_BODY, key=key, client="acme")

    material = b"payment-id/v3\x00acme\x00order-0001-retry"
    assert response.body["payment_id"] == "pay_" + hashlib.sha256(material).hexdigest()[:32]


@pytest.mark.parametrize(
    "user_arn",
    [
        None,  # unsigned: only a misconfigured API would let it through
        "",
        f"arn:aws:iam::{ACCOUNT}:user/payment-test-client-acme",  # an IAM user, not a role
        f"arn:aws:sts::{ACCOUNT}:assumed-role/payment-prod-client-acme/s",  # another environment
        f"arn:aws:sts::{ACCOUNT}:assumed-role/payment-test-processor/s",  # not a client role
        f"arn:aws:sts::{ACCOUNT}:assumed-role/payment-test-client-/s",  # no client id
        f"arn:aws:sts::{ACCOUNT}:assumed-role/payment-test-client-Acme/s",  # not a client id
        f"arn:aws:sts::{ACCOUNT}:assumed-role/payment-test-client-{'a' * 29}/s",  # too long
        f"arn:aws:sts::{ACCOUNT}:assumed-role/payment-test-client-acme",  # no session
        f"arn:aws:sts::{ACCOUNT}:federated-user/payment-test-client-acme",
        f"xarn:aws:sts::{ACCOUNT}:assumed-role/payment-test-client-acme/s",
    ],
)
def test_anything_but_a_client_role_session_is_refused(user_arn: str | None) -> None:
    identity = {"userArn": user_arn} if user_arn is not None else {}
    assert_refused(post(VALID_BODY, key=new_key(), client=None, identity=identity))


def test_a_role_session_in_another_partition_is_still_the_client() -> None:
    user_arn = f"arn:aws-cn:sts::{ACCOUNT}:assumed-role/payment-test-client-acme/s"
    response = post(VALID_BODY, client=None, identity={"userArn": user_arn})

    assert response.status == 201


def test_the_refusal_comes_before_validation_and_names_nothing_else() -> None:
    response = post({"amount": "not money"}, client=None)

    assert_refused(response)
    assert "details" not in response.body["error"]


def test_in_iam_mode_a_client_certificate_is_not_an_identity() -> None:
    cert = certificate("CN=acme", "CN=payment-client-ca-acme")
    assert_refused(post(VALID_BODY, client=None, identity={"clientCert": cert}))


def test_health_needs_no_client_identity() -> None:
    assert invoke(api_event("GET", "/health", client=None)).status == 200


def test_the_request_log_line_names_the_client(capsys: pytest.CaptureFixture[str]) -> None:
    post(VALID_BODY, client="acme")

    [line] = [json.loads(raw) for raw in capsys.readouterr().out.splitlines() if raw]
    assert line["client_id"] == "acme"


# -- mutual TLS ------------------------------------------------------------------------------


def certificate(subject_dn: str, issuer_dn: str) -> dict[str, Any]:
    """``requestContext.identity.clientCert`` as API Gateway forwards a verified certificate."""
    return {
        "clientCertPem": "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----",
        "subjectDN": subject_dn,
        "issuerDN": issuer_dn,
        "serialNumber": "a1:b2:c3",
        "validity": {"notBefore": "Dec  1 00:00:00 2026 GMT", "notAfter": "Dec  1 2027 GMT"},
    }


@pytest.fixture
def mtls(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # After `table`: its account fixture sets the IAM-mode environment.
    monkeypatch.setenv("CLIENT_AUTH", "mtls")
    app.reset_runtime()


@pytest.mark.usefixtures("mtls")
@pytest.mark.parametrize(
    ("subject_dn", "issuer_dn"),
    [
        ("CN=acme", "CN=payment-client-ca-acme"),
        ("CN=acme,OU=payments,O=Acme Ltd,C=GB", "CN=payment-client-ca-acme,O=Acme Ltd,C=GB"),
        ("C=GB,O=Acme\\, Ltd,CN=acme", "O=Acme,CN=payment-client-ca-acme"),
    ],
)
def test_a_certificate_from_the_clients_own_ca_is_that_client(
    subject_dn: str, issuer_dn: str
) -> None:
    response = post(
        VALID_BODY, client=None, identity={"clientCert": certificate(subject_dn, issuer_dn)}
    )

    assert response.status == 201, response.body
    [item] = scan_items()
    assert item["client_id"] == {"S": "acme"}


@pytest.mark.usefixtures("mtls")
@pytest.mark.parametrize(
    ("subject_dn", "issuer_dn"),
    [
        ("CN=acme", "CN=payment-client-ca-globex"),  # globex's CA minting acme's identity
        ("CN=acme", "CN=payment-client-ca-acme-2"),
        ("CN=acme,CN=globex", "CN=payment-client-ca-acme"),  # ambiguous subject
        ("CN=acme+CN=globex", "CN=payment-client-ca-acme"),
        ("O=Acme", "CN=payment-client-ca-acme"),  # no CN
        ("CN=Acme", "CN=payment-client-ca-Acme"),  # not a client id
        ("CN=acme", "O=payment-client-ca-acme"),
        ("CN=acme", ""),
        ("=acme", "CN=payment-client-ca-acme"),
    ],
)
def test_a_certificate_not_issued_for_that_client_is_refused(
    subject_dn: str, issuer_dn: str
) -> None:
    identity = {"clientCert": certificate(subject_dn, issuer_dn)}
    assert_refused(post(VALID_BODY, client=None, identity=identity))


@pytest.mark.usefixtures("mtls")
def test_in_mtls_mode_the_default_endpoint_without_a_certificate_is_refused() -> None:
    # The execute-api endpoint stays on for the Route 53 health checks; it forwards no
    # certificate, and a role session is not an identity in this mode.
    assert_refused(post(VALID_BODY, client="acme"))
    assert invoke(api_event("GET", "/health", client=None)).status == 200


# -- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["", "none", "IAM"])
def test_without_a_known_mode_no_payment_is_accepted(
    table: str, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.setenv("CLIENT_AUTH", mode)
    app.reset_runtime()

    response = post(VALID_BODY, client="acme")

    assert response.status == 500
    assert scan_items() == []


def test_common_name_reads_escapes_and_refuses_what_does_not_parse() -> None:
    assert common_name("CN=a\\,b,O=x") == "a,b"
    assert common_name("O=x,CN= acme ") == "acme"
    assert common_name('CN="acme,O=x"') is None
    assert common_name("CN=acme,,O=x") is None
    assert common_name("") is None
