"""Wall time of ``python -m templates_src build`` against one bare cfn-lint run over its templates.

Goals: a first build (empty lint cache) <= 0.7 x one bare cfn-lint run, a build with nothing
changed (every lint result from the cache) <= 0.15 x. Every command runs as a fresh process, in
turn within each run, so all pay interpreter start-up and none gets a warm cache another lacks.

- ``bare_cfn_lint``: one process that lints each built template in the regions the build lints
  it in, through cfn-lint's own Python API (its rules loaded once, the templates one after the
  other, the same checks and rule configuration as the build). The CLI cannot take one region
  list per template in one run, so this is the fastest bare cfn-lint run of the same checks.
- ``cfn_lint_cli_one_run``: the cfn-lint command run once over every built template, with the
  deployment's regions (every template is then linted in every one of them: the one command a
  user would run over the same templates).
- ``cfn_lint_cli_per_template``: for reference, the cfn-lint command once per template with
  that template's regions, as a user would have to run it to lint exactly what the build lints.
- ``first_build``: the build with an empty lint cache (a new ``XDG_CACHE_HOME`` each run) into
  an empty folder.
- ``noop_build``: the same build again, nothing changed: the folder is found up to date
  (``templates_src/up_to_date.py``), nothing is rendered or linted.
- ``warm_cache_build``: for reference, the same build into another empty folder: everything is
  rendered and written again, every lint result comes from the lint cache.
- ``import_cfn_lint``: for reference, ``import cfnlint`` alone: the build's configuration
  checks read cfn-lint's region list and provider schemas, so even a no-op build pays it.

CPU seconds are recorded beside wall seconds: on a machine shared with other work, wall time
includes waiting for a core and CPU time does not (a parallel lint uses a little more CPU than
a serial one, so only wall time shows what the parallelism gains). The build's lint server and
its workers are not the build's waited-for children; on Linux this process adopts them
(``cpu_includes_lint_server`` in the figures) so their CPU is counted, and waits for them after
each command so none runs on into the next measurement.

    .venv/bin/python benchmarks/build_vs_lint.py --runs 3

Figures go to benchmarks/results/build_vs_lint.json.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "build_vs_lint.json"
BIN = Path(sys.executable).parent
GOALS = {"first_build": 0.7, "noop_build": 0.15}
# The same goals against the one cfn-lint command (bare_cfn_lint above is the stricter baseline).
CLI_GOALS = {"first_build": 0.7, "noop_build": 0.15}


def _cli_flags() -> list[str]:
    """The build's checks and rule configuration, spelled as cfn-lint command-line flags."""
    from templates_src.linting import INCLUDE_CHECKS, RULE_CONFIGURATION

    configure = [
        f"{rule}:{name}={str(value).lower()}"
        for rule, options in RULE_CONFIGURATION.items()
        for name, value in options.items()
    ]
    return ["--include-checks", *INCLUDE_CHECKS, "--configure-rule", *configure]


def bare_lint(out: Path) -> int:
    """The body of ``bare_cfn_lint`` (run as ``--bare-lint DIR``): cfn-lint's API only."""
    from cfnlint.config import ConfigMixIn, ManualArgs
    from cfnlint.decode.decode import decode_str
    from cfnlint.runner import Runner, run_template_by_data

    from templates_src.linting import INCLUDE_CHECKS, RULE_CONFIGURATION

    manifest = json.loads((out / "manifest.json").read_text())
    rules = Runner(ConfigMixIn(regions=["us-east-1"])).rules
    count = 0
    for name, entry in sorted(manifest["templates"].items()):
        template, matches = decode_str((out / name).read_text())
        if not matches:
            config = ConfigMixIn(
                **ManualArgs(
                    regions=entry["regions"],
                    include_checks=INCLUDE_CHECKS,
                    configure_rules=RULE_CONFIGURATION,
                )
            )
            matches = list(run_template_by_data(template, config, rules))
        count += len(matches)
    print(f"{count} finding(s)")
    return 0


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime


def _adopt_orphans() -> bool:
    """Make this process the Linux "child subreaper" (prctl(2), PR_SET_CHILD_SUBREAPER): the
    build's lint server and its workers are not waited for by the build, and would otherwise
    take their CPU time to init with them. False where that is not possible (the CPU figures
    then leave the lint server out)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _reap() -> None:
    """Wait for every process left by the last command (a lint server finishing its preload
    after a build that needed no lint), so its CPU is counted and none runs into the next
    measurement."""
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _timed(commands: list[list[str]], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds until each command returns, and CPU seconds of all the processes it ran,
    those it left behind included (which other load on the machine does not inflate, so it
    shows how much of a slow wall time is waiting for a core)."""
    cpu, wall = _cpu(), 0.0
    for command in commands:
        began = time.perf_counter()
        proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
        wall += time.perf_counter() - began
        _reap()
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{proc.stdout}{proc.stderr}")
    return wall, _cpu() - cpu


def measure(runs: int) -> dict[str, list[tuple[float, float]]]:
    samples: dict[str, list[tuple[float, float]]] = {
        "bare_cfn_lint": [],
        "cfn_lint_cli_one_run": [],
        "cfn_lint_cli_per_template": [],
        "first_build": [],
        "noop_build": [],
        "warm_cache_build": [],
        "import_cfn_lint": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "build"
        build = [sys.executable, "-m", "templates_src", "build", "--out", str(out)]
        _timed([[*build, "--no-lint-cache"]])  # the templates to lint, and a warm file cache
        manifest = json.loads((out / "manifest.json").read_text())
        bare = [[sys.executable, str(Path(__file__).resolve()), "--bare-lint", str(out)]]
        flags = _cli_flags()
        regions = sorted({r for entry in manifest["templates"].values() for r in entry["regions"]})
        one_run = [
            [
                str(BIN / "cfn-lint"),
                *flags,
                "--regions",
                *regions,
                "--",
                *[str(out / n) for n in sorted(manifest["templates"])],
            ]
        ]
        per_template = [
            [str(BIN / "cfn-lint"), *flags, "--regions", *entry["regions"], "--", str(out / n)]
            for n, entry in sorted(manifest["templates"].items())
        ]
        for run in range(runs):
            cache_home = Path(tmp) / f"cache-{run}"  # empty: the first build lints everything
            env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
            samples["bare_cfn_lint"].append(_timed(bare))
            samples["cfn_lint_cli_one_run"].append(_timed(one_run))
            samples["cfn_lint_cli_per_template"].append(_timed(per_template))
            fresh = [*build[:-1], str(Path(tmp) / f"build-{run}")]
            samples["first_build"].append(_timed([fresh], env))
            samples["noop_build"].append(_timed([fresh], env))
            again = [*build[:-1], str(Path(tmp) / f"again-{run}")]
            samples["warm_cache_build"].append(_timed([again], env))
            samples["import_cfn_lint"].append(_timed([[sys.executable, "-c", "import cfnlint"]]))
    return samples


def report(samples: dict[str, list[tuple[float, float]]], runs: int) -> dict:
    medians = {name: statistics.median(w for w, _ in values) for name, values in samples.items()}
    cpu = {name: statistics.median(c for _, c in values) for name, values in samples.items()}
    bare = medians["bare_cfn_lint"]
    ratios = {name: round(medians[name] / bare, 3) for name in GOALS}
    one_run = medians["cfn_lint_cli_one_run"]
    cli_ratios = {name: round(medians[name] / one_run, 3) for name in CLI_GOALS}
    return {
        "runs": runs,
        "median_seconds": {k: round(v, 3) for k, v in medians.items()},
        "median_cpu_seconds": {k: round(v, 3) for k, v in cpu.items()},
        "ratio_to_bare_cfn_lint": ratios,
        "goal_ratio_to_bare_cfn_lint": GOALS,
        "goals_met": {name: ratios[name] <= goal for name, goal in GOALS.items()},
        "ratio_to_one_cfn_lint_command": cli_ratios,
        "goals_met_against_one_cfn_lint_command": {
            name: cli_ratios[name] <= goal for name, goal in CLI_GOALS.items()
        },
        "samples_seconds": {k: [round(w, 3) for w, _ in v] for k, v in samples.items()},
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            # Other work on the machine while it ran (1 = one core's worth, on average).
            "load_average_1m_5m_15m": [round(x, 2) for x in os.getloadavg()],
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bare-lint", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_lint:
        return bare_lint(args.bare_lint)
    if args.runs < 1:
        parser.exit(2, f"{parser.prog}: error: --runs {args.runs}: at least 1\n")

    adopted = _adopt_orphans()
    result = report(measure(args.runs), args.runs)
    result["cpu_includes_lint_server"] = adopted
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"{'command':<28}{'median s':>10}{'cpu s':>10}")
    for name, value in result["median_seconds"].items():
        print(f"{name:<28}{value:>10.3f}{result['median_cpu_seconds'][name]:>10.3f}")
    for name, goal in GOALS.items():
        ratio = result["ratio_to_bare_cfn_lint"][name]
        verdict = "met" if ratio <= goal else "NOT met"
        print(f"{name} / bare cfn-lint: {ratio:.2f}x (goal <= {goal}x: {verdict})")
    for name, goal in CLI_GOALS.items():
        ratio = result["ratio_to_one_cfn_lint_command"][name]
        verdict = "met" if ratio <= goal else "NOT met"
        print(f"{name} / one cfn-lint command: {ratio:.2f}x (goal <= {goal}x: {verdict})")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
