"""The security gate: build the templates, then cfn-lint, checkov and parliament over them.

    python scripts/security_scan.py [--environment-suffix S] [--primary-region R]
                                    [--replica-regions R1,R2] [--json FILE]

Prints one table (tool, passed, failed, skipped), every failure, and every suppression with its
reason. Exit 0 when nothing fails and every suppression is explained; 1 otherwise; 2 on bad
arguments. checkov runs from its own environment in .venvs/checkov, made by
``scripts/setup_tools.py``; without it the checkov row fails and names that command.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

from payment_ops import toolvenv
from payment_ops.security import exceptions, suppressions
from payment_ops.security.checkov_gate import run_checkov
from payment_ops.security.result import ToolResult
from templates_src import config as config_module
from templates_src.build import build
from templates_src.cli import add_config_arguments, config_from

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _cfn_lint_row(result, templates: dict[str, dict]) -> ToolResult:
    ignored = sum(
        len(r.get("Metadata", {}).get("cfn-lint", {}).get("config", {}).get("ignore_checks", []))
        for t in templates.values()
        for r in t["Resources"].values()
    )
    linted = result.manifest["templates"]
    return ToolResult(
        "cfn-lint",
        passed=sum(1 for entry in linted.values() if entry["lint"]["clean"]),
        failed=len(result.findings),
        skipped=ignored,
        details=[str(finding) for finding in result.findings],
    )


def _suppression_row(templates: dict[str, dict]) -> tuple[ToolResult, list[tuple]]:
    problems, rows = [], []
    for name, template in sorted(templates.items()):
        problems += [f"{name}: {p}" for p in suppressions.unexplained(template)]
        rows += [(name, *row) for row in suppressions.listed(template)]
    explained = len(rows) - len(problems)
    return ToolResult("suppression reasons", explained, len(problems), 0, problems), rows


def scan(config: config_module.Config, *, log=print) -> tuple[list[ToolResult], list[tuple]]:
    # parliament is the extra `security` (in `dev`): imported here, so that --help works without it.
    from payment_ops.security import iam_lint

    with tempfile.TemporaryDirectory(prefix="security-scan-") as tmp:
        out = Path(tmp)
        result = build(config, out)
        names = sorted(result.manifest["templates"])
        templates = {name: json.loads((out / name).read_text()) for name in names}
        regions = {name: result.manifest["templates"][name]["regions"][0] for name in names}
        rows = [_cfn_lint_row(result, templates)]
        try:
            rows.append(run_checkov(out, names))
        except toolvenv.ToolVenvError as error:
            rows.append(ToolResult("checkov", 0, 1, 0, [str(error)]))
        rows.append(iam_lint.lint_policies({n: (templates[n], regions[n]) for n in names}))
        exception_row, granted = exceptions.check(templates)
        rows.append(exception_row)
        for line in granted:  # an exception in force is printed, never silent
            log(f"security exception: {line}")
        suppression_result, listed = _suppression_row(templates)
        checkov_row = next(r for r in rows if r.tool == "checkov")
        if not checkov_row.failed:
            # A skip that checkov never applied is a stale reason: the check was renamed,
            # removed, or no longer fails. Reasons must describe the template as it is.
            for file, resource, tool, check, _ in listed:
                if tool == "checkov" and (file, resource, check) not in checkov_row.applied:
                    suppression_result.failed += 1
                    suppression_result.details.append(
                        f"{file}: {resource} checkov skip {check} is not used by checkov"
                    )
        rows.append(suppression_result)
    return rows, listed


def render(rows: list[ToolResult], listed: list[tuple]) -> str:
    lines = [f"{'tool':<22}{'passed':>8}{'failed':>8}{'skipped':>9}"]
    lines += [f"{r.tool:<22}{r.passed:>8}{r.failed:>8}{r.skipped:>9}" for r in rows]
    failures = [f"  {r.tool}: {d}" for r in rows for d in r.details]
    if failures:
        lines += ["", "failures:", *failures]
    if listed:
        lines += ["", "suppressions (each with its reason):"]
        lines += [
            f"  {file}: {resource} {tool} {check}: {reason or '(NO REASON)'}"
            for file, resource, tool, check, reason in listed
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None, *, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    add_config_arguments(parser)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    try:
        config = config_from(args)
    except config_module.ConfigError as error:
        print(f"security_scan: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if importlib.util.find_spec("parliament") is None:
        print(
            "security_scan: error: parliament is not installed: pip install '.[security]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    rows, listed = scan(config, log=lambda message: print(message, file=sys.stderr))
    print(render(rows, listed))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "tools": [
                        {k: v for k, v in r.__dict__.items() if k != "applied"} for r in rows
                    ],
                    "suppressions": [
                        dict(zip(("file", "resource", "tool", "check", "reason"), row, strict=True))
                        for row in listed
                    ],
                },
                indent=2,
            )
            + "\n"
        )
    return EXIT_FAILED if any(r.failed for r in rows) else EXIT_OK
