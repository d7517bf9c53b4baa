"""checkov over the built templates, from its own environment (``scripts/setup_tools.py``
makes it), fully offline."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from payment_ops import toolvenv

from .result import ToolResult


def run_checkov(build_dir: Path, files: list[str]) -> ToolResult:
    """ToolVenvError, naming the setup command, when checkov's environment is missing."""
    home = toolvenv.require(toolvenv.CHECKOV).parent.parent
    env = {
        **os.environ,
        "BC_SKIP_MAPPING": "TRUE",  # no guideline mapping download
        "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
        "LOG_LEVEL": "ERROR",
    }
    command = [
        str(toolvenv.bin_path(home, "checkov")),
        "--framework", "cloudformation",
        "--skip-download",
        "--output", "json",
        *(arg for name in files for arg in ("--file", str(build_dir / name))),
    ]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    try:
        reports = json.loads(proc.stdout)
    except json.JSONDecodeError:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-10:])
        return ToolResult("checkov", 0, 1, 0, [f"checkov produced no report:\n{tail}"])
    if isinstance(reports, dict):
        reports = [reports]
    result = ToolResult("checkov", 0, 0, 0, [])
    for report in reports:
        summary = report.get("summary", {})
        result.passed += summary.get("passed", 0)
        result.skipped += summary.get("skipped", 0)
        result.failed += summary.get("failed", 0) + summary.get("parsing_errors", 0)
        if summary.get("parsing_errors"):
            result.details.append(
                f"{summary['parsing_errors']} template(s) checkov could not parse"
            )
        for check in (report.get("results") or {}).get("skipped_checks", []):
            logical_id = check["resource"].rsplit(".", 1)[-1]
            result.applied.add((Path(check["file_path"]).name, logical_id, check["check_id"]))
        for check in (report.get("results") or {}).get("failed_checks", []):
            result.details.append(
                f"{Path(check['file_path']).name}: {check['check_id']} {check['check_name']} "
                f"({check['resource']})"
            )
    if proc.returncode not in (0, 1):  # 1 means "findings", reported above
        result.failed += 1
        result.details.append(f"checkov exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return result
