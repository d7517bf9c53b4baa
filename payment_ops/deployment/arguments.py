"""Argument types and checks the commands share, so every bad value fails the same way: one
line and exit 2 before anything changes (``OneLineParser`` turns an ``ArgumentTypeError`` into
that line; the checks below raise ``DeployError`` with ``EXIT_USAGE``)."""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from .errors import EXIT_USAGE, DeployError


def seconds(value: str) -> float:
    """A positive, finite number of seconds. ``nan`` compares false with everything, so a
    ``--timeout nan`` would never time out and ``--poll -1`` would make ``sleep`` raise: both
    are refused here, with 0 and ``inf``."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {value!r}")
    return number


def endpoint_problem(url: str) -> str | None:
    """Why ``url`` cannot be an AWS endpoint (botocore wants ``http(s)://host[:port]``); None
    when it can."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as error:
        return f"{url!r} is not a URL ({error})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s)://host[:port] URL"
    return None


def endpoint_url(value: str) -> str:
    """``--endpoint-url``: refused at parse time rather than by botocore after some calls."""
    problem = endpoint_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def _probe(folder: Path) -> str | None:
    """Create and remove a file in ``folder``: the only test that holds for root, read-only
    mounts and ACLs alike (``os.access`` answers yes to root whatever the mount says)."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            return None
    except OSError as error:
        return error.strerror or type(error).__name__


def check_writable_folder(folder: Path, flag: str, shown: Path | None = None) -> None:
    """``folder`` exists and takes new files, or can be created; DeployError (exit 2) naming
    ``flag`` and ``shown`` (default: the folder) if not."""
    shown = shown or folder
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise DeployError(f"{flag} {shown}: {existing} is not a folder", EXIT_USAGE)
    reason = _probe(existing)
    if reason:
        raise DeployError(f"{flag} {shown}: cannot write in {existing}: {reason}", EXIT_USAGE)


def check_writable_file(path: Path, flag: str) -> None:
    """``path`` can be (over)written: checked before acting, so a run does not fail after every
    AWS change only because its result cannot be saved."""
    if path.is_dir():
        raise DeployError(f"{flag} {path} is a folder, not a file", EXIT_USAGE)
    if path.exists() and not os.access(path, os.W_OK):
        raise DeployError(f"{flag} {path}: the file is not writable", EXIT_USAGE)
    check_writable_folder(path.parent, flag, path)


NO_ALARM_SUBSCRIBER = "--no-alarm-subscriber"


def add_alarm_subscriber_opt_out(parser: argparse.ArgumentParser) -> None:
    """``--no-alarm-subscriber``: the explicit opt-out without which a deployment with no
    ``--alarm-email`` is refused (``templates_src.config.require_alarm_subscriber``)."""
    parser.add_argument(
        NO_ALARM_SUBSCRIBER,
        action="store_true",
        dest="no_alarm_subscriber",
        help="deploy without --alarm-email on purpose: the alarms then notify a topic nobody "
        "is subscribed to (throw-away and test environments)",
    )


def add_wait_arguments(parser: argparse.ArgumentParser) -> None:
    """``--timeout`` and ``--poll`` of the commands that wait for stack set operations."""
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=3600.0,
        help="seconds to wait per operation (default 3600)",
    )
    parser.add_argument(
        "--poll",
        type=seconds,
        default=10.0,
        help="seconds between status polls (default 10)",
    )
