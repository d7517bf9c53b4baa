"""cfn-lint through its Python API: every rule, informational ones included, every region.

cfn-lint is CPU-bound, so ``lint_many`` lints several templates in parallel, one process per
core, each forked from a lint server that imported cfn-lint and loaded its rules once
(``start_server``). cfn-lint is imported here only when a template is linted in this process:
importing it costs more than a build whose lint results all come from the cache
(``lint_cache``).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Sequence
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
def rules() -> Rules:
    """cfn-lint's rules, loaded once per process: loading them costs more than linting a
    template. (``cfnlint.api.lint`` only reuses a ``RulesCollection``, which the runner's
    ``Rules`` is not, so it would reload them for every template.) The checks to include and the
    rule configuration are applied per run."""
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    return Runner(ConfigMixIn(regions=["us-east-1"])).rules


def lint_template(file_name: str, body: str, regions: Sequence[str]) -> list[Finding]:
    return _lint(file_name, body, lint_arguments(regions))


def _lint(file_name: str, body: str, arguments: dict[str, Any]) -> list[Finding]:
    from cfnlint.config import ConfigMixIn, ManualArgs
    from cfnlint.decode.decode import decode_str
    from cfnlint.runner import run_template_by_data

    template, matches = decode_str(body)
    if not matches:
        config = ConfigMixIn(**ManualArgs(**arguments))
        matches = list(run_template_by_data(template, config, rules()))
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


# The lint server is Python's forkserver start method ("multiprocessing: Contexts and start
# methods", https://docs.python.org/3/library/multiprocessing.html#contexts-and-start-methods):
# a server process that imports the preload modules once and then forks each new worker from
# itself. It is single-threaded, so forking it is safe when the caller runs threads (a test's
# emulator), and every worker starts with cfn-lint imported and its rules loaded.
SERVER_PRELOAD = ["templates_src.lint_server"]


def start_server() -> None:
    """Start the lint server now, so that importing cfn-lint and loading its rules there
    overlaps the caller's own start-up and rendering instead of following it. A no-op when it
    runs already, or where the platform has no forkserver (workers are then spawned and load the
    rules themselves).

    The server's stdout and stderr are /dev/null: a build that needs no lint, or is refused,
    exits before the server's preload is done, and the server must not hold the caller's pipes
    open meanwhile (a caller reading the build's output to its end would wait for it). Workers
    give back findings and errors as values, never on stderr."""
    if _context().get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    forkserver.set_forkserver_preload(SERVER_PRELOAD)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        forkserver.ensure_running()
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def _adopt_environment(environ: dict[str, str]) -> None:
    """A worker forked by the server has the server's environment, from whenever it started;
    cfn-lint reads its configuration file from the caller's home folder, so each worker takes
    the caller's environment as it is now. (The working folder is the caller's already:
    multiprocessing sets it in every new process.)"""
    os.environ.clear()
    os.environ.update(environ)


def lint_many(jobs: Sequence[LintJob]) -> list[list[Finding]]:
    """Each job's findings, in the jobs' order; the jobs run in parallel in the lint server's
    workers, one per core (at most one per job). The cfn-lint arguments of each job are computed
    here, as the lint cache's key computes them, so a worker lints with exactly what the key says.
    The server forks no worker before its preload is done (asking it for one waits until then):
    a caller that started it early (``start_server``) does its other work before calling this."""
    if not jobs:
        return []
    start_server()  # started already where the caller knew early that it would lint
    workers = min(len(jobs), os.cpu_count() or 1)
    # Largest first: the biggest template is the longest lint, so it must not start last.
    order = sorted(range(len(jobs)), key=lambda i: len(jobs[i].body), reverse=True)
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_context(),
        initializer=_adopt_environment,
        initargs=(dict(os.environ),),
    ) as pool:
        futures = {}
        for i in order:
            job = jobs[i]
            futures[i] = pool.submit(_lint, job.file_name, job.body, lint_arguments(job.regions))
        return [futures[i].result() for i in range(len(jobs))]


def _context() -> multiprocessing.context.BaseContext:
    """The lint server (forkserver) where the platform has it, else spawn: each worker then
    imports cfn-lint and loads the rules itself."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")
