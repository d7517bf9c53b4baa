"""A request's body read completely, within a deadline, or refused before the gateway sees it.

API Gateway invokes an integration only with a whole, well-framed request: a request whose
body never fully arrives, or whose framing cannot be trusted, never reaches the function. The
local server must do the same, or a client that gave up (and will retry) has a payment written
on its behalf. The framing rules are HTTP/1.1's (RFC 9112 §6 "Message Body"):

- ``Content-Length`` is one or more digits; repeated values must agree (§6.3 item 5); a
  negative, signed or non-numeric value is unrecoverable framing, answered 400 and the
  connection closed.
- ``Transfer-Encoding`` other than a single ``chunked`` is refused, and so is a request that
  carries both it and ``Content-Length`` (§6.1: a request smuggling vector).
- The body is read to its declared end within ``timeout_s`` in total (a client that trickles
  bytes cannot hold it longer); fewer bytes by the deadline, or the client closing its side
  first, is an incomplete request: 400.
- Over ``limit`` bytes (API Gateway's 10 MiB payload quota, "Amazon API Gateway quotas":
  *Payload size*) is refused as soon as the length is known, without reading the rest.
"""

from __future__ import annotations

import io
import re
import socket
import time
from email.message import Message

DEFAULT_TIMEOUT_S = 10.0
_DIGITS = re.compile(r"[0-9]+")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]+)[ \t]*(?:;[^\r\n]*)?\r?\n")
_LINE_LIMIT = 8192  # a chunk-size or trailer line longer than this is not a real client's


class MalformedRequest(Exception):
    """The body's framing is wrong or it did not arrive whole: 400, connection closed."""


class RequestTooLarge(Exception):
    """The body is larger than the gateway accepts: 413, connection closed."""


def read_body(
    rfile: io.BufferedIOBase,
    connection: socket.socket,
    headers: Message,
    *,
    limit: int,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> bytes:
    """The whole body of the request whose ``headers`` were just read from ``rfile``."""
    deadline = _Deadline(connection, timeout_s)
    encodings = [
        coding.strip().lower()
        for value in headers.get_all("Transfer-Encoding") or []
        for coding in value.split(",")
        if coding.strip()
    ]
    lengths = [value.strip() for value in headers.get_all("Content-Length") or []]
    try:
        if encodings:
            if lengths:
                raise MalformedRequest("both Content-Length and Transfer-Encoding are set")
            if encodings != ["chunked"]:
                raise MalformedRequest(
                    f"unsupported Transfer-Encoding {', '.join(encodings)!r} (only chunked)"
                )
            return _chunked(rfile, deadline, limit)
        if not lengths:
            return b""
        if len(set(lengths)) != 1 or not _DIGITS.fullmatch(lengths[0]):
            shown = ", ".join(lengths)
            raise MalformedRequest(f"invalid Content-Length {shown!r}: one number of bytes")
        length = int(lengths[0])
        if length > limit:
            raise RequestTooLarge(f"Content-Length {length} is over {limit} bytes")
        return _exactly(rfile, deadline, length)
    finally:
        deadline.release()


class _Deadline:
    """One deadline for the whole body: each socket read may wait only for what is left."""

    def __init__(self, connection: socket.socket, timeout_s: float) -> None:
        self.connection = connection
        self.timeout_s = timeout_s
        self.previous = connection.gettimeout()
        self.at = time.monotonic() + timeout_s

    def arm(self) -> None:
        left = self.at - time.monotonic()
        if left <= 0:
            raise MalformedRequest(f"the body did not arrive within {self.timeout_s:g} s")
        self.connection.settimeout(left)

    def release(self) -> None:
        self.connection.settimeout(self.previous)


def _exactly(rfile: io.BufferedIOBase, deadline: _Deadline, length: int) -> bytes:
    parts: list[bytes] = []
    left = length
    while left:
        deadline.arm()
        try:
            part = rfile.read1(min(left, 65536))
        except TimeoutError:
            part = None
        if not part:
            received = length - left
            why = "the client closed its side" if part == b"" else "the deadline passed"
            raise MalformedRequest(
                f"incomplete body: {received} of {length} bytes arrived ({why})"
            ) from None
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _line(rfile: io.BufferedIOBase, deadline: _Deadline) -> bytes:
    deadline.arm()
    try:
        line = rfile.readline(_LINE_LIMIT + 1)
    except TimeoutError:
        raise MalformedRequest("incomplete chunked body (the deadline passed)") from None
    if not line.endswith(b"\n") or len(line) > _LINE_LIMIT:
        raise MalformedRequest("incomplete or overlong line in the chunked body")
    return line


def _chunked(rfile: io.BufferedIOBase, deadline: _Deadline, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        line = _line(rfile, deadline)
        match = _CHUNK_SIZE.fullmatch(line)
        if match is None:
            raise MalformedRequest(f"invalid chunk size line {line[:40]!r}")
        length = int(match.group(1), 16)
        if length == 0:
            while _line(rfile, deadline).strip():
                pass  # trailer fields: API Gateway passes none of them on
            return b"".join(parts)
        size += length
        if size > limit:
            raise RequestTooLarge(f"chunked body over {limit} bytes")
        parts.append(_exactly(rfile, deadline, length))
        if _line(rfile, deadline).strip():
            raise MalformedRequest("a chunk is longer than its declared size")
