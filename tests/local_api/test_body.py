"""Reading a request body to its declared end, over a real socket pair: no server, no emulator."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from email.message import Message

import pytest

from payment_ops.localapi.body import MalformedRequest, RequestTooLarge, read_body


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    server, client = socket.socketpair()
    try:
        yield server, client
    finally:
        server.close()
        client.close()


def _headers(**values: str) -> Message:
    message = Message()
    for name, value in values.items():
        message[name.replace("_", "-")] = value
    return message


def _read(server: socket.socket, headers: Message, timeout_s: float = 5.0) -> bytes:
    with server.makefile("rb") as rfile:
        return read_body(rfile, server, headers, limit=100, timeout_s=timeout_s)


def test_a_whole_body_is_read_to_its_declared_end(pair) -> None:
    server, client = pair
    client.sendall(b"0123456789next request")
    assert _read(server, _headers(Content_Length="10")) == b"0123456789"


def test_a_client_that_trickles_bytes_cannot_hold_the_body_past_the_deadline(pair) -> None:
    server, client = pair
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(0.05):
            try:
                client.send(b"x")
            except OSError:
                return

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        # Each byte arrives well within the deadline; the body as a whole does not.
        with pytest.raises(MalformedRequest, match="deadline passed|did not arrive within"):
            _read(server, _headers(Content_Length="100"), timeout_s=0.5)
    finally:
        stop.set()
        sender.join()


def test_the_sockets_own_timeout_is_given_back(pair) -> None:
    server, client = pair
    server.settimeout(None)
    client.sendall(b"abc")
    _read(server, _headers(Content_Length="3"))
    assert server.gettimeout() is None


def test_a_chunked_body_over_the_limit_is_refused_before_it_is_read(pair) -> None:
    server, client = pair
    client.sendall(b"65\r\n")  # 101 bytes declared, none sent
    with pytest.raises(RequestTooLarge):
        _read(server, _headers(Transfer_Encoding="chunked"))


def test_a_chunk_longer_than_declared_is_refused(pair) -> None:
    server, client = pair
    client.sendall(b"2\r\nabc\r\n0\r\n\r\n")
    with pytest.raises(MalformedRequest, match="longer than its declared size"):
        _read(server, _headers(Transfer_Encoding="chunked"))
