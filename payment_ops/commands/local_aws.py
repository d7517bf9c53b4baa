"""``python scripts/local_aws.py``: the local AWS emulator (CONTRACT §4).

moto in server mode with the project's CloudFormation extensions. Prints ``ready: URL`` on its
own line once it accepts requests, and serves until interrupted. Point deploy, delete and
taskcat at it with ``--endpoint-url URL`` or ``AWS_ENDPOINT_URL=URL``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence

from payment_ops.emulator.server import Server


def main(argv: Sequence[str] | None = None, *, prog: str = "payment-local-aws") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=5000, help="port (default 5000; 0 picks a free one)"
    )
    parser.add_argument(
        "--parent-pid",
        type=int,
        help="stop when the process with this id ends (how the Emulator class starts it)",
    )
    args = parser.parse_args(argv)
    emulator = Server(args.host, args.port)
    try:
        emulator.start()
    except OSError as error:
        print(
            f"local_aws: error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr
        )
        return 2
    # A shell starts background jobs with SIGINT ignored, and Python keeps that: restore
    # Ctrl-C / kill -INT as the way to stop the emulator however it was started. Before "ready",
    # so a caller that signals as soon as it reads the line is heard.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.parent_pid:
        threading.Thread(target=_stop_with, args=(args.parent_pid,), daemon=True).start()
    try:
        print(f"ready: {emulator.url}", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


def _stop_with(parent_pid: int) -> None:
    """Interrupt this process once ``parent_pid`` is gone: a test run or a tool that was
    killed leaves no emulator behind (the child runs in a session of its own)."""
    while os.getppid() == parent_pid:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGINT)


if __name__ == "__main__":
    sys.exit(main())
