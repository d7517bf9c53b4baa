"""What shows that the failover works.

On AWS, ``wait_for_region`` asks the domain itself: ``GET https://<domain>/health`` answers with
the region that served it. In the emulator there is no DNS to ask, so ``LocalPayments`` sends
payments to the SECONDARY region's API through the local API Gateway (``payment_ops.localapi``: the
REST API as deployed, the deployed handlers in this process) and follows each accepted payment
into that region's table and, through the table's stream and the audit writer, its audit bucket.
The payments are signed (Signature Version 4, ``execute-api``) with a session of the client
``failover-drill`` (registered with the clients library in the emulator if it is not yet):
``POST /process`` is an ``AWS_IAM`` method ("Control access to a REST API with IAM
permissions").
"""

from __future__ import annotations

import io
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from botocore.config import Config

from handler.audit_key import audit_key
from payment_ops.deployment.aws import error_code
from payment_ops.deployment.clients import Clients, client_spec
from payment_ops.deployment.partition import partition
from payment_ops.localapi.deployed import DeployedApi, read_api, read_function, read_stream_mappings
from payment_ops.localapi.functions import LocalFunction
from payment_ops.localapi.gateway import Gateway, HttpRequest
from payment_ops.localapi.iam_auth import Sessions
from payment_ops.localapi.iam_invoke import InvokeAuthorizer
from payment_ops.localapi.signing import ClientCredentials, assume_client_role, signed_headers
from payment_ops.localapi.stream import StreamPoller
from templates_src import config as config_module

from .discovery import Deployment

CREATED_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # the handler's created_at
DRILL_CLIENT_ID = "failover-drill"
DRILL_EXTERNAL_ID = "failover-drill"  # the role's trust asks for it, as a client's role does


# -- on AWS: the domain's answers ---------------------------------------------------------------


def served_region(url: str, timeout_s: float = 5.0) -> str | None:
    """The ``region`` of ``GET url`` (the keyless health endpoint), None when it did not answer
    with one. A fresh connection each time, so each probe resolves the name again."""
    request = urllib.request.Request(url, headers={"User-Agent": "payment-failover-drill"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body = json.loads(response.read(65536).decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError):
        return None
    region = body.get("region") if isinstance(body, dict) else None
    return region if isinstance(region, str) else None


def wait_for_region(
    url: str,
    region: str,
    started: float,
    timeout_s: float,
    interval_s: float,
    out: TextIO,
    probe: Callable[[str], str | None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> float | None:
    """Seconds from ``started`` until ``url`` is served by ``region``; None after ``timeout_s``."""
    probe = probe or served_region  # looked up now: tests replace it
    last: str | None = "?"
    while True:
        answer = probe(url)
        elapsed = clock() - started
        if answer == region:
            return elapsed
        if answer != last:
            print(f"  [{elapsed:5.0f} s] {url}: {answer or 'no answer'}", file=out, flush=True)
            last = answer
        if elapsed >= timeout_s:
            return None
        sleep(max(0.0, min(interval_s, timeout_s - elapsed)))


# -- in the emulator: payments through the secondary region's API --------------------------------


@dataclass
class PaymentCounts:
    sent: int = 0
    accepted: int = 0
    found_in_table: int = 0
    found_in_audit_bucket: int = 0
    payment_ids: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "accepted": self.accepted,
            "found_in_table": self.found_in_table,
            "found_in_audit_bucket": self.found_in_audit_bucket,
        }


class LocalPayments:
    """The secondary region's API, served in this process as ``payment_ops.localapi`` serves it."""

    def __init__(
        self,
        aws: Any,
        config: config_module.Config,
        deployment: Deployment,
        function_logs: str | None,
    ) -> None:
        self.aws = aws
        self.config = config
        self.deployment = deployment
        self.side = deployment.secondary
        self.function_logs = function_logs
        self.stream_log = io.StringIO()

    def _client(self, service: str, region: str) -> Any:
        return self.aws.client(service, region)

    def _client_with(self, service: str, region: str, config: Config | None = None) -> Any:
        return self.aws.session.client(
            service, region_name=region, endpoint_url=self.aws.endpoint_url, config=config
        )

    def client_session(self) -> ClientCredentials:
        """The drill's client, registered with the clients library unless it is already (its
        role trusts this account), and a session of its role assumed in the emulator's STS;
        the session's secret is never printed."""
        clients = Clients(self.aws, self.config, poll_seconds=0.05)
        client = next((c for c in clients.list() if c.client_id == DRILL_CLIENT_ID), None)
        if client is None:
            region = self.config.primary_region
            trusted = f"arn:{partition(region)}:iam::{self.deployment.account}:root"
            client = clients.add(client_spec(DRILL_CLIENT_ID, [trusted], DRILL_EXTERNAL_ID))
        return assume_client_role(
            self._client("sts", self.config.primary_region),
            client.role_arn,
            DRILL_CLIENT_ID,
            DRILL_EXTERNAL_ID,
        )

    def run(self, count: int, wait_s: float = 30.0) -> PaymentCounts:
        """Send ``count`` signed payments to the secondary's API, then follow the accepted ones
        into its table and, for up to ``wait_s`` of stream delivery, its audit bucket."""
        counts = PaymentCounts()
        api = read_api(self._client, self.side.region, self.side.api_id, self.side.stage)
        functions = self._proxy_functions(api)
        pollers = self._audit_pollers()
        if not pollers:
            counts.problems.append(
                f"no enabled stream mapping on {self.side.table_stream_arn}: no audit writer"
            )
        with _function_logs(self.function_logs):
            session = self.client_session()
            gateway = self._gateway(api, functions, session)
            created = self._send(gateway, api, session, count, counts)
            counts.found_in_table = sum(1 for p in counts.payment_ids if self._in_table(p))
            found = self._wait_for_audit(pollers, created, wait_s)
            counts.found_in_audit_bucket = len(found)
        for payment_id in created.keys() - found:
            counts.problems.append(f"payment {payment_id}: not in {self.side.audit_bucket}")
        if self.stream_log.getvalue():
            counts.problems.extend(self.stream_log.getvalue().splitlines()[-5:])
        return counts

    def _proxy_functions(self, api: DeployedApi) -> dict[str, LocalFunction]:
        """The deployed function of each method's proxy integration, by ARN."""
        functions = {}
        for resource in api.resources:
            for method in resource.methods.values():
                arn = method.function_arn
                if arn and arn not in functions:
                    functions[arn] = LocalFunction(
                        read_function(self._client, arn), self.aws.endpoint_url
                    )
        return functions

    def _audit_pollers(self) -> list[StreamPoller]:
        """The enabled event source mappings on the table's stream: the audit writer."""
        return [
            StreamPoller(
                mapping,
                LocalFunction(
                    read_function(self._client, mapping.function_arn), self.aws.endpoint_url
                ),
                self._client_with,
                self.stream_log,
            )
            for mapping in read_stream_mappings(
                self._client, self.side.region, self.side.table_stream_arn
            )
            if mapping.enabled
        ]

    def _gateway(
        self, api: DeployedApi, functions: dict[str, LocalFunction], session: ClientCredentials
    ) -> Gateway:
        """The API's gateway, authenticating the drill's session and authorising it with the
        emulator's IAM."""
        sessions = Sessions(api.account, partition(api.region), self.aws.endpoint_url or "")
        sessions.add(session)
        iam = self._client("iam", api.region)
        return Gateway(api, functions, sessions=sessions, authorizer=InvokeAuthorizer(lambda: iam))

    def _send(
        self,
        gateway: Gateway,
        api: DeployedApi,
        session: ClientCredentials,
        count: int,
        counts: PaymentCounts,
    ) -> dict[str, datetime]:
        """``count`` payments, counted in ``counts``; each accepted one's ``created_at``."""
        run_id = uuid.uuid4().hex[:12]
        created: dict[str, datetime] = {}
        for index in range(count):
            counts.sent += 1
            request = _payment_request(api.stage, api.region, session, run_id, index)
            response = gateway.handle(request)
            if response.status != 201:
                counts.problems.append(
                    f"payment {index + 1}: {response.status} {response.body[:200]!r}"
                )
                continue
            body = json.loads(response.body)
            counts.accepted += 1
            counts.payment_ids.append(body["payment_id"])
            created[body["payment_id"]] = datetime.strptime(body["created_at"], CREATED_AT_FORMAT)
        return created

    def _wait_for_audit(
        self, pollers: list[StreamPoller], created: dict[str, datetime], wait_s: float
    ) -> set[str]:
        """The payments whose audit object is in the bucket, delivering the stream until all
        are or ``wait_s`` has passed."""
        deadline = time.monotonic() + wait_s
        found: set[str] = set()
        while True:
            while any(poller.poll_once() for poller in pollers):
                pass  # deliver every record the stream holds
            found |= {p for p in created if p not in found and self._audited(p, created[p])}
            if len(found) == len(created) or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def _in_table(self, payment_id: str) -> bool:
        item = self._client("dynamodb", self.side.region).get_item(
            TableName=self.deployment.table,
            Key={"payment_id": {"S": payment_id}},
            ConsistentRead=True,
        )
        return "Item" in item

    def _audited(self, payment_id: str, created: datetime) -> bool:
        try:
            self._client("s3", self.side.region).head_object(
                Bucket=self.side.audit_bucket, Key=audit_key(payment_id, created)
            )
            return True
        except Exception as error:
            if error_code(error) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise


def _payment_request(
    stage: str, region: str, session: ClientCredentials, run_id: str, index: int
) -> HttpRequest:
    """A payment signed for ``region``'s API, as a client sends it to the secondary."""
    body = {
        "amount": f"{index + 1}.00",
        "currency": "USD",
        "customer_id": "failover-drill",
        "payment_method": "card",
        "description": f"failover drill {run_id}",
    }
    data = json.dumps(body).encode()
    host = "localhost"  # the in-process gateway has no host of its own; the signature covers it
    headers = signed_headers(
        session,
        region,
        "POST",
        f"http://{host}/{stage}/process",
        data,
        {"Content-Type": "application/json", "Idempotency-Key": f"drill-{run_id}-{index:04d}"},
    )
    return HttpRequest(
        method="POST",
        path=f"/{stage}/process",
        query=[],
        headers=[("Host", host), *headers.items()],
        body=data,
    )


@contextmanager
def _function_logs(path: str | None) -> Iterator[None]:
    """The handlers' JSON log lines go to a file (or nowhere), not into the drill's output."""
    from handler.observability import LOGGER_NAME, JsonFormatter

    base = logging.getLogger(LOGGER_NAME)
    saved = list(base.handlers)
    for existing in saved:
        base.removeHandler(existing)
    added: logging.Handler = logging.FileHandler(path) if path else logging.NullHandler()
    added.setFormatter(JsonFormatter())
    base.addHandler(added)
    try:
        yield
    finally:
        base.removeHandler(added)
        added.close()
        for handler in saved:
            base.addHandler(handler)
