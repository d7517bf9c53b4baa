"""Lint results kept between builds, so a build with nothing changed skips cfn-lint.

An entry is keyed by everything that decides cfn-lint's findings: the template's bytes and file
name, the cfn-lint version, the regions, the checks and rule configuration passed to cfn-lint,
and any cfn-lint configuration file it would read. Change any of them and the key changes, so
the template is linted again; a cached result never stands in for a different lint. Findings
are stored and replayed as they are, so a template with findings fails the build from the cache
as it would fresh. An entry that cannot be read or does not check out is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import linting

FORMAT = 1  # bump when an entry's layout changes: old entries then miss


def default_directory() -> Path:
    """Under the XDG cache folder (``$XDG_CACHE_HOME``, else ``~/.cache``): outside the
    repository, so nothing is committed, and writable for an installed package too."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "payment-templates" / "lint"


def key(job: linting.LintJob) -> str:
    material = {
        "format": FORMAT,
        "file": job.file_name,
        "template_sha256": hashlib.sha256(job.body.encode()).hexdigest(),
        "cfn_lint": linting.cfn_lint_version(),
        "arguments": linting.lint_arguments(job.regions),
        "config_files": linting.config_files(),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Linted:
    findings: list[linting.Finding]
    reused: bool  # True: from the cache, cfn-lint not run


class LintCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, entry_key: str) -> Path:
        return self.directory / f"{entry_key}.json"

    def get(self, entry_key: str) -> list[linting.Finding] | None:
        """The findings stored under the key; None when there is no entry or it is unreadable,
        truncated or not the shape ``put`` writes."""
        try:
            entry = json.loads(self._path(entry_key).read_text())
            if entry["key"] != entry_key:
                return None
            return [_finding(item) for item in entry["findings"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, entry_key: str, findings: Sequence[linting.Finding]) -> None:
        """Written to a temporary file and renamed into place: a build running beside this one,
        or one interrupted, never leaves half an entry under a key. A cache that cannot be
        written (a read-only home) only costs the next build a lint, so it is not an error."""
        data = json.dumps({"key": entry_key, "findings": [f.to_json() for f in findings]})
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".entry.")
        except OSError:
            return
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(data)
            os.replace(tmp, self._path(entry_key))
        except OSError:
            Path(tmp).unlink(missing_ok=True)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _finding(item: object) -> linting.Finding:
    fields = {"file": str, "line": int, "column": int, "rule": str, "message": str}
    if not isinstance(item, dict) or set(item) != set(fields):
        raise ValueError("not a finding")
    if not all(type(item[name]) is kind for name, kind in fields.items()):
        raise TypeError("not a finding")
    return linting.Finding(**item)


def lint_all(jobs: Sequence[linting.LintJob], cache: LintCache | None) -> list[Linted]:
    """Each job's findings, in the jobs' order: from the cache where it has them, else from
    cfn-lint (all of those in one parallel run), then stored. No cache: every job is linted."""
    keys = [key(job) for job in jobs] if cache else []
    cached = [cache.get(k) for k in keys] if cache else [None] * len(jobs)
    missing = [i for i, findings in enumerate(cached) if findings is None]
    linted = linting.lint_many([jobs[i] for i in missing])
    fresh = dict(zip(missing, linted, strict=True))
    results = []
    for i, findings in enumerate(cached):
        if findings is not None:
            results.append(Linted(findings, reused=True))
            continue
        if cache:
            cache.put(keys[i], fresh[i])
        results.append(Linted(fresh[i], reused=False))
    return results
