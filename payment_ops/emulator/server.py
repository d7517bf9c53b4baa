"""moto in server mode with the project's extensions, in this process: the emulator's own.

``install()`` changes moto's classes for the whole process, for good; only the emulator's
process (``scripts/local_aws.py``, started by ``process.Emulator``) calls it, so no other
process - a test run's included - ever runs on a patched moto.
"""

from __future__ import annotations

import logging
import socket
from types import TracebackType

from moto.cloudformation import parsing
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from . import (
    deletion,
    lambda_concurrency,
    models,
    network,
    ordering,
    parameters,
    patches,
    role_updates,
    sessions,
    stackset_operations,
    stacksets,
    updates,
)

_installed = False


def install() -> None:
    """Register the models and patches; safe to call more than once, before the first stack."""
    global _installed
    if _installed:
        return
    patches.install()
    network.install()
    ordering.install()
    parameters.install()
    role_updates.install()
    deletion.install()
    updates.install()
    stacksets.install()
    stackset_operations.install()
    lambda_concurrency.install()
    sessions.install()
    # moto caches its type -> model map on first use; rebuild it with the classes above.
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    # Checked through moto's own lookup: it sends Custom:: types elsewhere unless patched.
    for name in models.__all__:
        model = getattr(models, name)
        if parsing.resource_class_from_type(model.cloudformation_type()) is not model:
            raise RuntimeError(f"{model.cloudformation_type()} is not served by {name}")
    _installed = True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class Server:
    """moto's threaded server with the extensions installed, in this process."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port if port is not None else free_port(host)
        self._server: ThreadedMotoServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Server:
        install()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        # moto's server thread would hang on a port it cannot bind: find out here instead.
        # SO_REUSEADDR as the server itself sets it: a port a stopped emulator left in
        # TIME_WAIT is free, one another process listens on is not.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((self.host, self.port))
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        self.host, self.port = self._server.get_host_and_port()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
