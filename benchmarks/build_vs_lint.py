"""Wall time of ``python -m templates_src build`` against a bare cfn-lint run over its templates.

The goal is build <= 1.1 x bare cfn-lint: generating the templates and the zip should cost next
to nothing beside validation. Both sides run as fresh processes, alternating, so that both pay
interpreter start-up and neither benefits from a warm cache the other lacks.

Bare cfn-lint is measured two ways, because cfn-lint's CLI takes one region list per run:
- ``per_template``: one cfn-lint run per template with that template's regions (the same checks
  the build makes, as a user would have to run them);
- ``single_run``: one cfn-lint run over all three templates with every region (one process, but
  each template linted in regions it is not deployed to).

    .venv/bin/python benchmarks/build_vs_lint.py --runs 5

Figures go to benchmarks/results/build_vs_lint.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "build_vs_lint.json"
BIN = Path(sys.executable).parent
LINT_FLAGS = [
    "--include-checks",
    "I",
    "--configure-rule",
    "I3042:partition=true",
    "I3042:region=true",
    "I3042:accountId=true",
]


def _timed(commands: list[list[str]]) -> float:
    start = time.perf_counter()
    for command in commands:
        proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{proc.stdout}{proc.stderr}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        build = [sys.executable, "-m", "templates_src", "build", "--out", str(out)]
        _timed([build])  # warm the file cache and produce the templates to lint
        manifest = json.loads((out / "manifest.json").read_text())
        per_template = [
            [
                str(BIN / "cfn-lint"),
                *LINT_FLAGS,
                "--regions",
                *entry["regions"],
                "--",
                str(out / name),
            ]
            for name, entry in sorted(manifest["templates"].items())
        ]
        all_regions = sorted({r for e in manifest["templates"].values() for r in e["regions"]})
        single_run = [
            [
                str(BIN / "cfn-lint"),
                *LINT_FLAGS,
                "--regions",
                *all_regions,
                "--",
                *(str(out / name) for name in sorted(manifest["templates"])),
            ]
        ]
        samples: dict[str, list[float]] = {"build": [], "per_template": [], "single_run": []}
        for _ in range(args.runs):
            samples["build"].append(_timed([build]))
            samples["per_template"].append(_timed(per_template))
            samples["single_run"].append(_timed(single_run))

    medians = {name: statistics.median(values) for name, values in samples.items()}
    result = {
        "runs": args.runs,
        "median_seconds": {k: round(v, 3) for k, v in medians.items()},
        "ratio_build_to_per_template_lint": round(medians["build"] / medians["per_template"], 3),
        "ratio_build_to_single_lint_run": round(medians["build"] / medians["single_run"], 3),
        "goal": "build <= 1.1 x bare cfn-lint",
        "samples_seconds": {k: [round(x, 3) for x in v] for k, v in samples.items()},
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"{'command':<28}{'median s':>10}")
    for name, value in medians.items():
        print(f"{name:<28}{value:>10.3f}")
    print(f"build / per-template cfn-lint: {result['ratio_build_to_per_template_lint']:.2f}x")
    print(f"build / single cfn-lint run:   {result['ratio_build_to_single_lint_run']:.2f}x")
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
