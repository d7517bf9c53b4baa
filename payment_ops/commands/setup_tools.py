"""``python scripts/setup_tools.py``: create or update the tool environments (.venvs/).

checkov and taskcat each get a virtual environment of their own, installed from the exact
versions in ``constraints/checkov.txt`` and ``constraints/taskcat.txt``. An environment whose
constraint file has not changed since it was made is left as it is, so a second run takes
well under a second. The security gate and ``scripts/run_taskcat.py`` (and their tests) use
these environments and never install anything themselves. Exit 0 when every environment is
up to date; 1 when one could not be created (pip's last lines say why).
"""

from __future__ import annotations

import argparse
import sys

from payment_ops import toolvenv


def main(argv: list[str] | None = None, *, prog: str = "payment-setup-tools") -> int:
    # No options: one job. A parser still answers --help and refuses anything else (exit 2).
    argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0]).parse_args(argv)
    for tool in toolvenv.TOOLS:
        try:
            built = toolvenv.ensure(tool, log=lambda line: print(line, flush=True))
        except toolvenv.ToolVenvError as error:
            print(f"setup_tools: error: {error}", file=sys.stderr)
            return 1
        state = "created" if built else "up to date"
        print(f"{tool.name}: {tool.home.relative_to(toolvenv.ROOT)} {state}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
