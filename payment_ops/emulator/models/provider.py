"""Run a custom resource's provider - the project's real handler - as CloudFormation invokes it.

CloudFormation sends the provider Lambda a request (RequestType, ResponseURL, StackId,
RequestId, ResourceType, LogicalResourceId, PhysicalResourceId, ResourceProperties) and waits for
the answer the provider PUTs to the presigned ResponseURL; without one it waits the resource's
``ServiceTimeout`` (1 to 3600 seconds, default 3600) and fails the resource (AWS CloudFormation
Template Reference, "AWS::CloudFormation::CustomResource"; User Guide, "Custom resources" and
"Custom resource request objects" / "response objects").

moto would run the function in Docker (absent here). The emulator instead calls the handler
module the function names, in this process, with the request CloudFormation would send; the
ResponseURL is a one-request HTTP server on 127.0.0.1, and the answer is read from what the
handler PUT there, as CloudFormation reads it. A provider that answers nothing fails the
resource at once with the timeout's outcome (the emulator does not wait the timeout out).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from moto.cloudformation.exceptions import ValidationError

DEFAULT_SERVICE_TIMEOUT_S = 3600


class _Context:
    """What the handler reads of Lambda's context."""

    def __init__(self, function_name: str, timeout_s: int) -> None:
        self.function_name = function_name
        self.aws_request_id = str(uuid.uuid4())
        self._timeout_ms = timeout_s * 1000

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout_ms


@contextmanager
def response_url() -> Iterator[tuple[str, list[bytes]]]:
    """A URL on 127.0.0.1 that takes one PUT; the bodies received are collected in the list."""
    received: list[bytes] = []

    class Answer(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
            received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            """Quiet: the emulator prints no line per request."""

    server = HTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/cloudformation-response", received
    finally:
        server.shutdown()
        server.server_close()


def service_timeout(resource_name: str, props: dict[str, Any]) -> int:
    """The resource's ServiceTimeout, validated as CloudFormation validates it."""
    value = props.get("ServiceTimeout", DEFAULT_SERVICE_TIMEOUT_S)
    try:
        seconds = int(str(value))
    except ValueError:
        seconds = 0
    if not 1 <= seconds <= 3600 or str(seconds) != str(value).strip():
        raise ValidationError(
            message=f"{resource_name}: ServiceTimeout must be a whole number of seconds from 1 "
            f"to 3600, not {value!r}"
        )
    return seconds


def invoke(
    handler: Callable[[Any, Any], Any],
    request: dict[str, Any],
    *,
    function_name: str,
    function_timeout_s: int,
    timeout_s: int,
) -> dict[str, Any]:
    """The provider's answer document (Status, Reason, PhysicalResourceId, Data, ...).

    Raises CloudFormation's failure when nothing was answered: after ``timeout_s`` on AWS."""
    with response_url() as (url, received):
        event = {**request, "ResponseURL": url, "RequestId": str(uuid.uuid4())}
        try:
            handler(event, _Context(function_name, function_timeout_s))
        except Exception:  # noqa: BLE001 - a provider that raises may still have answered
            pass
    if not received:
        raise ValidationError(
            message=f"CloudFormation did not receive a response from your Custom Resource "
            f"{request.get('LogicalResourceId')} within its ServiceTimeout of {timeout_s} "
            "seconds; check the provider function's logs"
        )
    return json.loads(received[-1])
