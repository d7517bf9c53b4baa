"""Run the taskcat tests through taskcat's Python API and record what happened to every stack.

Executed by ``scripts/run_taskcat.py`` with the taskcat virtual environment's interpreter (taskcat
cannot share the project's environment). It does what ``taskcat test run`` does — lint, stage in
S3, prehooks, create the test stacks, wait, write the stack logs, delete the stacks and wait —
but records each stack's creation and deletion outcome as JSON for the caller, and keeps the HTML
report (which downloads its stylesheet from the internet) out of the verdict.

``--offline`` (the local emulator, named by ``AWS_ENDPOINT_URL``) also:

- refuses every network connection that is not to the emulator or loopback, so nothing reaches
  AWS by accident (botocore honours ``AWS_ENDPOINT_URL``, but taskcat hard-codes
  ``https://sts.<region>.amazonaws.com`` for STS and falls back to plain HTTPS requests when a
  bucket's location is denied);
- lets STS follow ``AWS_ENDPOINT_URL`` like every other client.

(taskcat's staging bucket gets its "deny SigV2" policy as on AWS: the emulator leaves
conditional statements out of its policy evaluation, see ``payment_ops/emulator/patches.py``.)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PLUGIN = "taskcat_plugin_payment_replica_prerequisites"
LOOPBACK = ("127.0.0.1", "::1", "localhost")
SUFFIX_PARAMETER = "EnvironmentSuffix"

LOG = logging.getLogger("run_taskcat")
BLOCKED: list[str] = []  # connections the offline guard refused: each one is a leak to report


def _endpoint_only(endpoint_url: str) -> None:
    """Every name lookup and connection goes to the endpoint's host or loopback, or nowhere.

    Lookups are guarded as well as connections: without DNS (as on an offline machine) a
    request to AWS fails at the lookup, and would otherwise go unrecorded.
    """
    host = urlsplit(endpoint_url).hostname or ""
    lookup, connect = socket.getaddrinfo, socket.socket.connect
    allowed_names = {*LOOPBACK, host}
    allowed = set(LOOPBACK) | {info[4][0] for info in lookup(host, None)}

    def guarded_lookup(name: Any, *args: Any, **kwargs: Any) -> Any:
        text = name.decode() if isinstance(name, bytes) else str(name)
        if text not in allowed_names and text not in allowed:
            BLOCKED.append(text)
            raise socket.gaierror(f"offline taskcat run: no lookup of {text} (only {endpoint_url})")
        return lookup(name, *args, **kwargs)

    def guarded(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and address[0] not in allowed:
            BLOCKED.append(str(address[0]))
            raise ConnectionRefusedError(
                f"offline taskcat run: no connection to {address[0]} (only {endpoint_url})"
            )
        return connect(self, address)

    socket.getaddrinfo = guarded_lookup  # type: ignore[assignment]
    socket.socket.connect = guarded  # type: ignore[method-assign]


def _stage_only(project_root: Path, staged: list[str]) -> None:
    """taskcat uploads the whole project root; the tests need only the staged folders."""
    from taskcat._s3_sync import S3Sync

    keep = set(staged)
    S3Sync.exclude_path_prefixes = S3Sync.exclude_path_prefixes + [
        f"{p.name}/" for p in project_root.iterdir() if p.is_dir() and p.name not in keep
    ]
    S3Sync.exclude_files = S3Sync.exclude_files + [
        p.name for p in project_root.iterdir() if p.is_file()
    ]


def _printer(poll_interval: float) -> Any:
    from taskcat._tui import TerminalPrinter

    class Printer(TerminalPrinter):
        def report_test_progress(self, stacker: Any, poll_interval: float = poll_interval) -> None:
            super().report_test_progress(stacker, poll_interval=poll_interval)

    return Printer(minimalist=True)


def _first_failure(client: Any, stack_id: str) -> str:
    events = client.describe_stack_events(StackName=stack_id)["StackEvents"]
    for event in reversed(events):  # oldest first: the first failure is the cause
        if event.get("ResourceStatus", "").endswith("_FAILED"):
            return f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason', '')}"
    return ""


def _state_of(client: Any, stack_id: str) -> tuple[str, str]:
    """Status and reason straight from CloudFormation (not taskcat's cached view)."""
    described = client.describe_stacks(StackName=stack_id)["Stacks"][0]
    status = described["StackStatus"]
    reason = described.get("StackStatusReason", "")
    if not status.endswith("_COMPLETE") or status.startswith("ROLLBACK"):
        reason = _first_failure(client, stack_id) or reason
    return status, reason


def _state(stack: Any) -> tuple[str, str]:
    if stack.launch_exception or "FailedToLaunch" in stack.id:
        return "CREATE_FAILED", stack.status_reason
    return _state_of(stack.client, stack.id)


def _live_stack(client: Any, stack_name: str, stack_id: str = "") -> dict[str, str] | None:
    """The stack's summary from ListStacks: unlike DescribeStacks it also answers for a stack
    whose creation the emulator abandoned half-way (see ``_delete_left_behind``)."""
    for page in client.get_paginator("list_stacks").paginate():
        for summary in page["StackSummaries"]:
            if stack_id and summary["StackId"] == stack_id:
                return summary
            if not stack_id and summary["StackName"] == stack_name:
                if summary["StackStatus"] != "DELETE_COMPLETE":
                    return summary
    return None


def _delete_left_behind(client: Any, stack_name: str) -> tuple[str, str, str]:
    """Delete a stack called ``stack_name`` that taskcat could not track; (id, status, reason).

    When CreateStack is refused, taskcat has no stack id and deletes nothing. On AWS a refused
    call creates nothing; the emulator, though, registers the stack before a resource fails and
    leaves it in CREATE_IN_PROGRESS with the resources made so far.
    """
    summary = _live_stack(client, stack_name)
    if summary is None:
        return "", "NOT_CREATED", ""
    stack_id = summary["StackId"]
    LOG.info("deleting %s (%s), left by a refused CreateStack", stack_name, summary["StackStatus"])
    client.delete_stack(StackName=stack_id)
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        summary = _live_stack(client, stack_name, stack_id) or {"StackStatus": "DELETE_COMPLETE"}
        if not summary["StackStatus"].endswith("_IN_PROGRESS"):
            break
        time.sleep(5)
    return stack_id, summary["StackStatus"], summary.get("StackStatusReason", "")


def _planned(test: Any) -> list[dict[str, str]]:
    return [
        {"test": name, "region": region}
        for name, definition in test.config.config.tests.items()
        for region in definition.regions or []
    ]


def _offline(endpoint_url: str) -> None:
    """Only the emulator is reachable, and STS follows ``AWS_ENDPOINT_URL`` too."""
    import taskcat._client_factory as client_factory

    _endpoint_only(endpoint_url)
    client_factory.REGIONAL_ENDPOINT_SERVICES[:] = []


def _run_tests(test: Any, result: dict[str, Any]) -> None:
    """taskcat's run: lint, stage, prehooks, create and wait. A failure is recorded, not raised,
    so that the clean-up still runs."""
    from taskcat.exceptions import TaskCatException

    try:
        test.run()
    except (TaskCatException, Exception) as error:  # noqa: BLE001 - recorded, then cleaned up
        result["errors"].append(f"taskcat run: {error}")
        LOG.debug("run failed", exc_info=True)


def _write_logs(
    test: Any, definition: Any, output: Path, report: bool, result: dict[str, Any]
) -> None:
    """The stack logs, and with ``report`` taskcat's HTML report."""
    # Logs and report are aids, not the verdict: their failure is a note.
    if report:  # taskcat's own: the stack logs, then index.html
        try:
            test.report(str(output))
            result["notes"].append(f"HTML report: {output / 'index.html'}")
        except Exception as error:  # noqa: BLE001 - the report fetches CSS from the internet
            result["notes"].append(f"HTML report not written: {error}")
    else:
        try:
            from taskcat._cfn._log_stack_events import _CfnLogTools

            _CfnLogTools().createcfnlogs(definition, output)
        except Exception as error:  # noqa: BLE001
            result["notes"].append(f"stack logs not written: {error}")
        result["notes"].append(
            "HTML report skipped (it downloads its stylesheet from the internet)"
        )


def _clean_up(test: Any, result: dict[str, Any]) -> None:
    """taskcat deletes the test stacks and waits for them."""
    from taskcat.exceptions import TaskCatException

    try:
        test.clean_up()
    except TaskCatException as error:
        # taskcat raises here whenever a stack failed; the per-stack records say which.
        LOG.info("taskcat clean-up: %s", error)
    except Exception as error:  # noqa: BLE001
        result["errors"].append(f"taskcat clean-up: {error}")


def _delete_prerequisites(result: dict[str, Any]) -> None:
    """The prehook plugin's stacks, if taskcat loaded the plugin."""
    plugin = sys.modules.get(PLUGIN)
    if plugin is not None:
        try:
            result["prerequisites"] = plugin.delete_all()
        except Exception as error:  # noqa: BLE001
            result["errors"].append(f"prerequisite clean-up: {error}")


def _stack_record(stack: Any, created: tuple[str, str], definition: Any) -> dict[str, str]:
    """One test stack: how its creation ended and where it is now, after the clean-up."""
    status, reason = created
    stack_id, stack_name = stack.id, stack.name
    if "FailedToLaunch" in stack.id:
        # CreateStack was refused, so taskcat has no stack id to delete; make sure no stack
        # by the test's name exists anyway (the emulator registers one before it fails).
        stack_name = definition.tests[stack.test_name].stack_name
        stack_id, final_status, final_reason = _delete_left_behind(stack.client, stack_name)
    else:
        final_status, final_reason = _state_of(stack.client, stack_id)
    return {
        "test": stack.test_name,
        "region": stack.region_name,
        "stack_name": stack_name,
        "stack_id": stack_id,
        "suffix": stack.region.parameters.get(SUFFIX_PARAMETER, ""),
        "created_status": status,
        "created_reason": reason,
        "final_status": final_status,
        "final_reason": final_reason,
    }


def _not_started(
    planned: list[dict[str, str]], started: set[tuple[str, str]]
) -> list[dict[str, str]]:
    """A record for each planned (test, region) that taskcat never got to."""
    return [
        {
            **item,
            "stack_name": "",
            "stack_id": "",
            "suffix": "",
            "created_status": "NOT_STARTED",
            "created_reason": "taskcat stopped before creating the test stacks",
            "final_status": "NOT_CREATED",
            "final_reason": "",
        }
        for item in planned
        if (item["test"], item["region"]) not in started
    ]


def _record_blocked(result: dict[str, Any]) -> None:
    """Every connection the offline guard refused is a leak, so an error."""
    if BLOCKED:
        result["errors"].append(
            "the offline run tried to reach hosts other than the emulator: "
            + ", ".join(sorted(set(BLOCKED)))
        )
    result["blocked_connections"] = sorted(set(BLOCKED))


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the tests, delete their stacks and the prerequisites, and record every stack."""
    from taskcat.testing import CFNTest

    project_root = Path(args.project_root).resolve()
    if args.offline:
        _offline(os.environ["AWS_ENDPOINT_URL"])
    _stage_only(project_root, args.stage)
    # The prehook plugin sits beside this file, whose folder Python puts first on sys.path when
    # it runs a script ("The initialization of the sys.path module search path").

    output = Path(args.output_dir).resolve()
    output.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"stacks": [], "prerequisites": [], "errors": [], "notes": []}

    test = CFNTest.from_file(
        project_root=str(project_root),
        input_file=str(Path(args.config).resolve()),
        enable_sig_v2=args.offline,
    )
    test.printer = _printer(args.poll)
    test.dont_wait_for_delete = False  # "deleted afterwards" is part of the verdict
    planned = _planned(test)
    _run_tests(test, result)
    definition = getattr(test, "test_definition", None)
    stacks: list[Any] = []
    created: dict[str, tuple[str, str]] = {}
    if definition is not None:
        stacks = list(definition.stacks)
        for stack in stacks:
            created[stack.id] = _state(stack)
        _write_logs(test, definition, output, args.report, result)
    _clean_up(test, result)
    # Before the prerequisites go: a test stack may import their exports.
    result["test_stacks_deleted_at"] = datetime.now(UTC).isoformat(timespec="microseconds")
    _delete_prerequisites(result)
    started = set()
    for stack in stacks:
        stack._timer.cancel()  # taskcat's refresh timer would keep the process alive a minute
        result["stacks"].append(_stack_record(stack, created[stack.id], definition))
        started.add((stack.test_name, stack.region_name))
    result["stacks"].extend(_not_started(planned, started))
    _record_blocked(result)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(prog="runner.py", description=__doc__.split("\n")[0])
    parser.add_argument("--project-root", required=True)
    parser.add_argument("--config", required=True, help="the taskcat configuration file")
    parser.add_argument("--results", required=True, help="where to write the JSON results")
    parser.add_argument("--output-dir", required=True, help="taskcat's outputs (stack logs)")
    parser.add_argument("--stage", action="append", default=[], help="folder to stage in S3")
    parser.add_argument("--offline", action="store_true", help="AWS_ENDPOINT_URL is an emulator")
    parser.add_argument("--report", action="store_true", help="also write the HTML report")
    parser.add_argument("--poll", type=float, default=10.0, help="seconds between status polls")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        result = run(args)
    except Exception:  # noqa: BLE001 - the caller prints this and exits 1
        result = {"stacks": [], "prerequisites": [], "errors": [traceback.format_exc()]}
    Path(args.results).write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
