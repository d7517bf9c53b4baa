"""cfn-lint through its Python API: every rule, informational ones included, every region.

cfn-lint is CPU-bound, so ``lint_many`` lints several templates in parallel, one process per
core. cfn-lint is imported only when a template is linted: importing it costs more than a
build whose lint results all come from the cache (``lint_cache``).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cfnlint.rules import Rules

# ARNs must be built from pseudo parameters (or named Sub variables): no hand-typed partition,
# region or account id anywhere.
RULE_CONFIGURATION = {"I3042": {"partition": True, "region": True, "accountId": True}}
INCLUDE_CHECKS = ["I"]  # informational rules too
# cfn-lint also reads these from the home folder and the working folder (its "Config File"
# arguments); a rule ignored there changes the findings.
CONFIG_FILE_NAMES = (".cfnlintrc", ".cfnlintrc.yaml", ".cfnlintrc.yml")


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    column: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.rule} {self.message}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LintJob:
    """One template and the regions it is deployed to."""

    file_name: str
    body: str
    regions: tuple[str, ...]


def cfn_lint_version() -> str:
    """From the installed distribution's metadata, without importing cfn-lint."""
    return metadata.version("cfn-lint")


def lint_arguments(regions: Sequence[str]) -> dict[str, Any]:
    """cfn-lint's manual arguments for one template: what ``lint_template`` passes, and so what
    a cached result must have been linted with."""
    return {
        "regions": list(regions),
        "include_checks": list(INCLUDE_CHECKS),
        "configure_rules": RULE_CONFIGURATION,
    }


def config_files() -> dict[str, str]:
    """The cfn-lint configuration files cfn-lint would read now, by path, with their text."""
    found = {}
    for folder in (Path.home(), Path.cwd()):
        for name in CONFIG_FILE_NAMES:
            path = folder / name
            if path.is_file():
                found[str(path)] = path.read_text(errors="replace")
                break  # cfn-lint takes the first of the three in each folder
    return found


@lru_cache(maxsize=1)
def _rules() -> Rules:
    """cfn-lint's rules, loaded once per process: loading them costs more than linting a
    template. (``cfnlint.api.lint`` only reuses a ``RulesCollection``, which the runner's
    ``Rules`` is not, so it would reload them for every template.) The checks to include and the
    rule configuration are applied per run."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn(regions=["us-east-1"])).rules


def lint_template(file_name: str, body: str, regions: Sequence[str]) -> list[Finding]:
    from cfnlint.config import ConfigMixIn, ManualArgs
    from cfnlint.decode.decode import decode_str
    from cfnlint.runner import run_template_by_data

    template, matches = decode_str(body)
    if not matches:
        config = ConfigMixIn(**ManualArgs(**lint_arguments(regions)))
        matches = list(run_template_by_data(template, config, _rules()))
    findings = {
        Finding(
            file=file_name,
            line=match.linenumber,
            column=match.columnnumber,
            rule=match.rule.id,
            message=match.message,
        )
        for match in matches
    }
    return sorted(findings, key=lambda f: (f.line, f.column, f.rule, f.message))


def _lint_job(job: LintJob) -> list[Finding]:
    return lint_template(job.file_name, job.body, job.regions)


def lint_many(
    jobs: Sequence[LintJob], *, meanwhile: Callable[[], None] | None = None
) -> list[list[Finding]]:
    """Each job's findings, in the jobs' order; several jobs run in parallel, one process per
    core (at most one per job). ``meanwhile`` is other work of the caller, done in this
    process while the workers lint (before or after the lint when there are no workers)."""
    workers = min(len(jobs), os.cpu_count() or 1)
    if workers <= 1:
        if meanwhile:
            meanwhile()
        return [_lint_job(job) for job in jobs]
    # Largest first: the biggest template is the longest lint, so it must not start last.
    order = sorted(range(len(jobs)), key=lambda i: len(jobs[i].body), reverse=True)
    results: dict[int, list[Finding]] = {}
    context = _context()
    if context.get_start_method() == "fork":
        # The smallest template is linted here, before the workers fork: that loads the rules
        # and warms cfn-lint's caches once for all of them instead of once in each.
        smallest = order.pop()
        results[smallest] = _lint_job(jobs[smallest])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_lint_job, jobs[i]) for i in order]
        if meanwhile:
            meanwhile()
        results.update((i, future.result()) for i, future in zip(order, futures, strict=True))
    return [results[i] for i in range(len(jobs))]


def _context() -> multiprocessing.context.BaseContext:
    """fork where the platform has it and this process runs one thread: the workers start with
    cfn-lint imported and its rules loaded. A process with other threads (a test's emulator, say)
    could fork a lock one of them holds, so it spawns workers that import and load their own."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
