"""The deployed Lambda functions, run in this process with the environment they were deployed with.

Each function's handler (``module.function`` from its configuration) is imported while that
function's environment variables are in ``os.environ``, and its runtime (clients, settings) is
built right then, as Lambda's init phase would. ``AWS_ENDPOINT_URL`` points the clients at the
emulator. The variables are put back afterwards, so the two functions (which differ, e.g. only
the audit writer has ``AUDIT_KMS_KEY_ARN``) never see each other's.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .deployed import Function

_environ_lock = threading.Lock()


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    with _environ_lock:
        saved = {name: os.environ.get(name) for name in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


class Context:
    """The Lambda context object: what the handlers and their logs read."""

    def __init__(self, function: Function) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function.arn
        self.memory_limit_in_mb = function.memory_mb
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + function.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalFunction:
    def __init__(self, function: Function, endpoint_url: str) -> None:
        self.function = function
        self.environment = {
            **function.environment,
            # What Lambda sets for every function, and the emulator for its SDK clients.
            "AWS_REGION": function.region,
            "AWS_DEFAULT_REGION": function.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_ENDPOINT_URL": endpoint_url,
        }
        module_name, _, attribute = function.handler.rpartition(".")
        with environment(self.environment):
            module = importlib.import_module(module_name)
            # The module may have been imported before (the other function shares the package):
            # rebuild its clients and settings from this function's environment, now.
            if hasattr(module, "reset_runtime") and hasattr(module, "runtime"):
                module.reset_runtime()
                module.runtime()
        self._handler: Callable[[Any, Any], Any] = getattr(module, attribute)

    def invoke(self, event: Any) -> Any:
        return self._handler(event, Context(self.function))
