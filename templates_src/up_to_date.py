"""Whether ``build/`` already holds what a build with these inputs would write.

A build is a pure function of its inputs: the sources of the generator and the Lambda code,
the command's flags and the one environment variable the configuration reads, and the cfn-lint
release that vouched for the templates. When all of them are those the manifest records, every
file the manifest lists is still byte for byte what was written, and that build was lint clean,
building again would write the same bytes and find the same (no) findings: ``build`` says so
and stops, without importing troposphere or cfn-lint. Anything else builds, and a build with
findings is never taken as up to date, so a finding is never hidden.

Standard library only: the point is to answer before the expensive imports.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parent.parent
SOURCE_FOLDERS = ("templates_src", "handler")
MANIFEST = "manifest.json"
# The configuration reads this one variable (templates_src/config.py, from_inputs).
ENVIRONMENT_VARIABLES = ("ENVIRONMENT_SUFFIX",)


def sources_digest(root: Path = SOURCE_ROOT) -> str:
    """A hash of everything that shapes the build output, so deploy can tell a stale build."""
    digest = hashlib.sha256()
    for folder in SOURCE_FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def inputs_key(flags: Mapping[str, object], environ: Mapping[str, str]) -> str:
    """Everything a build's output depends on, as one digest."""
    inputs = {
        "flags": {name: flags[name] for name in sorted(flags)},
        "environment": {name: environ.get(name) for name in ENVIRONMENT_VARIABLES},
        "sources_sha256": sources_digest(),
        "cfn_lint": metadata.version("cfn-lint"),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def up_to_date(out: Path, key: str) -> bool:
    """The manifest in ``out`` records ``key``, a lint-clean build, and files still as written."""
    try:
        manifest = json.loads((out / MANIFEST).read_text())
        if manifest.get("inputs_key") != key:
            return False
        if not all(t["lint"]["clean"] for t in manifest["templates"].values()):
            return False
        for name, entry in manifest["files"].items():
            data = (out / name).read_bytes()
            if len(data) != entry["size"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
                return False
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False  # no manifest, a broken one, a file gone: build
    return True
