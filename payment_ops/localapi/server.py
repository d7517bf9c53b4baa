"""The local API end to end: emulator, deploy, the deployed API served on 127.0.0.1, the stream.

``LocalApi.start()`` brings everything up and returns once requests are answered;
``LocalApi.stop()`` takes it down in the reverse order. ``local_api.py`` is the command line.

``POST /process`` is an ``AWS_IAM`` method: the start-up registers the client ``local`` with
the clients library (its role stack ``payment-<suffix>-client-local``), assumes its role in the
emulator (``sts:AssumeRole``, as a client does on AWS) and prints that session's credentials,
with which a client signs (Signature Version 4, service ``execute-api``; "Control access to a
REST API with IAM permissions").
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import socket
import sys
import threading
import time
import traceback
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

import boto3
from botocore.config import Config

from payment_ops import paths
from payment_ops.commands import exits
from payment_ops.deployment import deploy, names
from payment_ops.deployment.aws import Aws
from payment_ops.deployment.clients import Clients, client_spec
from payment_ops.deployment.partition import partition
from payment_ops.emulator import Emulator
from templates_src import config as config_module
from templates_src import naming

from .body import DEFAULT_TIMEOUT_S, MalformedRequest, RequestTooLarge, read_body
from .deployed import DeployedApi, Limit, read_api, read_function, read_stream_mappings
from .functions import LocalFunction
from .gateway import (
    MAX_PAYLOAD_BYTES,
    Gateway,
    HttpRequest,
    HttpResponse,
    LimitOverride,
    new_request_id,
)
from .iam_auth import Sessions
from .iam_invoke import InvokeAuthorizer
from .signing import SERVICE, ClientCredentials, assume_client_role
from .stream import StreamPoller

STATE_DIR = paths.project_dir() / "build" / "local-api"
# The emulator accepts any credentials; these keep real ones (a profile, a token) out of it.
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
DROPPED = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
LOCAL_CLIENT_ID = "local"
LOCAL_EXTERNAL_ID = "local-api"  # the role's trust asks for it, as a client's own role does
EXAMPLE_BODY = {
    "amount": "12.50",
    "currency": "USD",
    "customer_id": "cust_123",
    "payment_method": "card",
}


class StartError(Exception):
    """Cannot start: a busy port, a failed deploy. One line for the user."""


@dataclass(frozen=True)
class Options:
    host: str = "127.0.0.1"
    port: int = 8080
    endpoint_url: str | None = None
    emulator_port: int = 5000
    environment_suffix: str = "local"
    primary_region: str | None = None
    replica_regions: str | None = None
    region: str | None = None  # the region whose API is served; None: the primary
    build_dir: Path = STATE_DIR / "build"
    rate_limit: float | None = None
    burst_limit: int | None = None
    function_logs: str = "-"  # "-": this process's stdout, as Lambda ships stdout to its log
    access_log: bool = True
    info_file: Path | None = None
    stream_poll_s: float = 0.2
    read_timeout_s: float = DEFAULT_TIMEOUT_S  # for a request's whole body to arrive


class LocalApi:
    def __init__(self, options: Options, out: TextIO = sys.stdout) -> None:
        self.options = options
        self.out = out
        self.emulator: Emulator | None = None
        self.endpoint_url = options.endpoint_url or ""
        self.outputs: dict[str, str] = {}
        self.api: DeployedApi | None = None
        self.gateway: Gateway | None = None
        self.credentials: ClientCredentials | None = None
        self.pollers: list[StreamPoller] = []
        self.httpd: ThreadingHTTPServer | None = None
        self._serving: threading.Thread | None = None
        self._log_handler: logging.Handler | None = None

    # -- start ----------------------------------------------------------------------------

    def start(self) -> LocalApi:
        for name in DROPPED:
            os.environ.pop(name, None)
        os.environ.update(EMULATOR_CREDENTIALS)
        # Bind the API port first: a busy port should fail before a minute of set-up.
        httpd = _Server((self.options.host, self.options.port), _Handler)
        try:
            self._start_emulator()
            self._deploy()
            self.credentials = self._client_session()
            self._wire()
        except BaseException:
            httpd.server_close()
            self.stop()
            raise
        httpd.local_api = self
        self.httpd = httpd
        self._serving = threading.Thread(target=httpd.serve_forever, name="http", daemon=True)
        self._serving.start()
        return self

    def _start_emulator(self) -> None:
        if self.options.endpoint_url:
            return
        self.emulator = Emulator(self.options.host, self.options.emulator_port)
        try:
            self.emulator.start()
        except OSError as error:
            self.emulator = None
            raise StartError(
                f"cannot start the emulator on {self.options.host}:"
                f"{self.options.emulator_port}: {error} (--emulator-port 0 picks a free one)"
            ) from None
        self.endpoint_url = self.emulator.url

    def _deploy(self) -> None:
        """Deploy's typed call, as ``deploy.py --bootstrap`` would with this configuration;
        its progress is kept back, its summary line printed."""
        options = self.options
        log = io.StringIO()
        print(
            f"deploying {names.deployment(options.environment_suffix)} into "
            f"{self.endpoint_url} ...",
            file=self.out,
            flush=True,
        )
        try:
            config = config_module.from_inputs(
                environment_suffix=options.environment_suffix,
                primary_region=options.primary_region,
                replica_regions=options.replica_regions,
                environ=os.environ,
            )
            naming.verify(config)
            request = deploy.DeployRequest(
                config=config,
                build_dir=options.build_dir,
                outputs_file=options.build_dir.parent
                / f"{options.environment_suffix}-flat-outputs.json",
                endpoint_url=self.endpoint_url,
                bootstrap=True,
                # A local environment: its alarms go to a topic nobody reads, on purpose.
                no_alarm_subscriber=True,
                poll_s=0.05,
            )
            deployed = deploy.run(request, log)
        except Exception as error:
            described = exits.describe("deploy", error)
            if described is None:
                raise
            raise StartError(f"deploy failed:\n{log.getvalue()}{described[0]}".strip()) from None
        print("  " + deployed.summary(), file=self.out, flush=True)
        self.outputs = deployed.outputs

    def client(self, service: str, region: str, config: Config | None = None) -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint_url,
            config=config,
            aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    @property
    def region(self) -> str:
        return self.options.region or self.outputs["TableArn"].split(":")[3]

    def output(self, name: str) -> str:
        """An output of the served region: the primary's by name, a standby's as
        ``<region>.<name>`` (deploy's flat outputs)."""
        primary = self.outputs["TableArn"].split(":")[3]
        key = name if self.region == primary else f"{self.region}.{name}"
        if key not in self.outputs:
            raise StartError(f"no {key} in the deploy outputs: is {self.region} deployed?")
        return self.outputs[key]

    def _client_session(self) -> ClientCredentials:
        """The client ``local``, registered with the clients library (its role, trusting this
        account) unless it is already, and a session of its role, assumed as a client would."""
        options = self.options
        config = config_module.from_inputs(
            environment_suffix=options.environment_suffix,
            primary_region=options.primary_region,
            replica_regions=options.replica_regions,
        )
        sts = self.client("sts", config.primary_region)
        account = sts.get_caller_identity()["Account"]
        clients = Clients(Aws(self.endpoint_url), config, poll_seconds=0.05)
        client = next((c for c in clients.list() if c.client_id == LOCAL_CLIENT_ID), None)
        if client is None:
            trusted = f"arn:{partition(config.primary_region)}:iam::{account}:root"
            client = clients.add(client_spec(LOCAL_CLIENT_ID, [trusted], LOCAL_EXTERNAL_ID))
        return assume_client_role(
            sts, client.role_arn, f"{LOCAL_CLIENT_ID}-{os.getpid()}", LOCAL_EXTERNAL_ID
        )

    def _wire(self) -> None:
        region = self.region
        stage = self.output(names.API_URL_OUTPUT).rstrip("/").rsplit("/", 1)[-1]

        def aws(service: str, service_region: str) -> Any:
            return self.client(service, service_region)

        self.api = read_api(aws, region, self.output(names.API_ID_OUTPUT), stage)
        functions: dict[str, LocalFunction] = {}
        for resource in self.api.resources:
            for method in resource.methods.values():
                arn = method.function_arn
                if arn and arn not in functions:
                    functions[arn] = LocalFunction(read_function(aws, arn), self.endpoint_url)
        override = None
        if self.options.rate_limit is not None or self.options.burst_limit is not None:
            rate = self.options.rate_limit if self.options.rate_limit is not None else 1e9
            burst = self.options.burst_limit if self.options.burst_limit is not None else 10**9
            override = LimitOverride(Limit(rate, burst))
        assert self.credentials is not None
        sessions = Sessions(self.api.account, partition(region), self.endpoint_url)
        sessions.add(self.credentials)
        iam = self.client("iam", region)
        authorizer = InvokeAuthorizer(lambda: iam)
        self.gateway = Gateway(self.api, functions, override, sessions, authorizer)

        for mapping in read_stream_mappings(aws, region, self.output("TableStreamArn")):
            if not mapping.enabled:
                continue
            function = LocalFunction(read_function(aws, mapping.function_arn), self.endpoint_url)
            poller = StreamPoller(
                mapping, function, self.client, self.out, self.options.stream_poll_s
            )
            self.pollers.append(poller.start())
        self._route_function_logs()

    def _route_function_logs(self) -> None:
        if self.options.function_logs == "-":
            return
        from handler.observability import LOGGER_NAME, JsonFormatter

        base = logging.getLogger(LOGGER_NAME)
        for existing in list(base.handlers):
            base.removeHandler(existing)
        if self.options.function_logs == "off":
            base.addHandler(logging.NullHandler())
            return
        handler = logging.FileHandler(self.options.function_logs)
        handler.setFormatter(JsonFormatter())
        base.addHandler(handler)
        self._log_handler = handler

    # -- what the user sees ---------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self.httpd is not None and self.api is not None
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/{self.api.stage}"

    def info(self) -> dict[str, Any]:
        assert self.api is not None and self.gateway is not None
        suffix = self.options.environment_suffix
        return {
            "url": self.url,
            "client_id": LOCAL_CLIENT_ID,
            "credentials": self.credentials.as_dict() if self.credentials else None,
            "endpoint_url": self.endpoint_url,
            "region": self.api.region,
            "environment_suffix": suffix,
            "stage": self.api.stage,
            "table": self.outputs.get(names.TABLE_OUTPUT, names.table(suffix)),
            "audit_bucket": self.output(names.AUDIT_BUCKET_OUTPUT),
            "limits": self.gateway.describe_limits(),
            "pid": os.getpid(),
        }

    def banner(self) -> str:
        assert self.api is not None and self.gateway is not None and self.credentials is not None
        routes = []
        for resource in self.api.resources:
            for name, method in sorted(resource.methods.items()):
                signed = " (AWS_IAM: signed)" if method.authorization_type == "AWS_IAM" else ""
                routes.append(f"{name} {resource.path}{signed}")
        audit = ", ".join(
            f"{p.function.function.name} <- stream ({p.mapping.batch_size}/batch)"
            for p in self.pollers
        )
        credentials = self.credentials
        exports = (
            f"export AWS_ACCESS_KEY_ID={credentials.access_key_id} "
            f"AWS_SECRET_ACCESS_KEY={credentials.secret_access_key} "
            f"AWS_SESSION_TOKEN={credentials.session_token}"
        )
        curl = (
            f"curl -sS -X POST '{self.url}/process' "
            f'--aws-sigv4 "aws:amz:{self.api.region}:{SERVICE}" '
            '--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" '
            '-H "x-amz-security-token: $AWS_SESSION_TOKEN" '
            "-H 'Content-Type: application/json' -H 'Idempotency-Key: try-it-0001' "
            f"-d '{json.dumps(EXAMPLE_BODY, separators=(',', ':'))}'"
        )
        lines = [
            f"local API: {self.url}  (stage {self.api.stage} of {self.api.name}, as deployed "
            "in the emulator)",
            f"emulator:  {self.endpoint_url}  (aws --endpoint-url / AWS_ENDPOINT_URL)",
            f"routes:    {', '.join(routes)}",
            f"client:    {LOCAL_CLIENT_ID} = {credentials.assumed_role_arn}  (a session until "
            f"{credentials.expiration}; local and throw-away)",
            *(f"limits:    {line}" for line in self.gateway.describe_limits()),
            f"audit:     {audit or 'no stream mapping deployed'}  -> s3://"
            f"{self.output(names.AUDIT_BUCKET_OUTPUT)}",
            "try it:",
            f"  {exports}",
            f"  {curl}",
            f"ready: {self.url}",
            "Ctrl-C stops the API and the stream reader"
            + ("." if self.options.endpoint_url else ", and the emulator."),
        ]
        return "\n".join(lines)

    # -- stop -----------------------------------------------------------------------------

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        for poller in self.pollers:
            poller.stop()
        self.pollers = []
        if self._log_handler is not None:
            self._log_handler.close()
            self._log_handler = None
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None

    def access_log(self, request: HttpRequest, response: HttpResponse, seconds: float) -> None:
        if not self.options.access_log:
            return
        note = f" {response.error_type}" if response.error_type else ""
        note += f" ({response.detail})" if response.detail else ""
        print(
            f'{request.source_ip} "{request.method} {request.path}" {response.status} '
            f"{seconds * 1000:.1f} ms{note}",
            file=self.out,
            flush=True,
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # socketserver's 5 drops connections a load test opens at once
    local_api: LocalApi


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway
    server_version = "local-api"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in two writes; with Nagle's algorithm the second waits for
        # the client's delayed ACK of the first, 40 ms on every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def __getattr__(self, name: str) -> Any:
        # BaseHTTPRequestHandler answers a verb without a do_<VERB> with its own HTML 501; every
        # verb goes to the gateway instead, which answers as the deployed API does.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _serve(self) -> None:
        started = time.perf_counter()
        local_api = self.server.local_api
        gateway = local_api.gateway
        assert gateway is not None
        request_id = new_request_id()
        refusal: tuple[str, str, int | None] | None = None
        try:
            body = read_body(
                self.rfile,
                self.connection,
                self.headers,
                limit=MAX_PAYLOAD_BYTES,
                timeout_s=local_api.options.read_timeout_s,
            )
        except RequestTooLarge as error:
            body, refusal = b"", ("REQUEST_TOO_LARGE", str(error), None)
        except MalformedRequest as error:
            # Framing that cannot be trusted never reaches the function; DEFAULT_4XX is the
            # API's shape for a refusal that has no response type of its own.
            body, refusal = b"", ("DEFAULT_4XX", str(error), 400)
        split = urllib.parse.urlsplit(self.path)
        request = HttpRequest(
            method=self.command,
            path=urllib.parse.unquote(split.path),
            query=urllib.parse.parse_qsl(split.query, keep_blank_values=True),
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            request_id=request_id,
        )
        if refusal is not None:
            # The rest of the body, if any, is still on the wire: no next request can be found.
            self.close_connection = True
            response_type, detail, status = refusal
            response = gateway.gateway_response(response_type, request_id, detail, status=status)
        else:
            try:
                response = gateway.handle(request)
            except Exception as error:  # a fault of this gateway, not of the function
                traceback.print_exc(file=sys.stderr)
                response = gateway.gateway_response(
                    "DEFAULT_5XX", request_id, f"{type(error).__name__} in the local gateway", 500
                )
        self.send_response(response.status)
        names = set()
        for name, value in response.headers:
            names.add(name.lower())
            self.send_header(name, value)
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        local_api.access_log(request, response, time.perf_counter() - started)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # LocalApi.access_log writes one line per request instead


def options_from(args: argparse.Namespace) -> Options:
    return Options(
        port=args.port,
        endpoint_url=args.endpoint_url,
        emulator_port=args.emulator_port,
        environment_suffix=args.environment_suffix,
        primary_region=args.primary_region,
        replica_regions=args.replica_regions,
        region=args.region,
        build_dir=args.build_dir,
        rate_limit=args.rate_limit,
        burst_limit=args.burst_limit,
        function_logs=args.function_logs,
        access_log=not args.quiet,
        info_file=args.info_file,
        read_timeout_s=args.read_timeout,
    )
