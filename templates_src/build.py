"""``build``: render the templates and the handler package, lint them, write ``build/``.

The templates are linted together, in parallel, and results of an unchanged template come from
the lint cache (``lint_cache``) unless the caller asks for a fresh lint.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from troposphere import Template

from . import lint_cache, linting, package, review
from .baseline import build_account_baseline
from .clients import build_client
from .config import Config
from .regions import build_primary, build_replica, build_standby
from .stackset_roles import build_stackset_roles
from .up_to_date import sources_digest

PRIMARY = "primary.template.json"
REPLICA = "replica.template.json"
STANDBY = "standby.template.json"
STACKSET_ROLES = "stackset-roles.template.json"
ACCOUNT_BASELINE = "account-baseline.template.json"
CLIENT = "client.template.json"
HANDLER_ZIP = "payment_processor.zip"
MANIFEST = "manifest.json"
REVIEW = "REVIEW.md"

# CloudFormation limits that shape deployment (DESIGN.md).
INLINE_BODY_LIMIT = 51_200  # bytes of TemplateBody; larger goes through TemplateURL
TEMPLATE_URL_LIMIT = 1_000_000  # bytes of a template in S3
RESOURCE_LIMIT = 500
WARN_AT = 0.8  # warn at 80 % of a hard limit


@dataclass(frozen=True)
class RenderedTemplate:
    file_name: str
    body: str
    regions: tuple[str, ...]
    template: Template


@dataclass
class BuildResult:
    out: Path
    findings: list[linting.Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)
    # Per template, in build order: True when its findings came from the lint cache.
    lint_reused: dict[str, bool] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.findings


def render(template: Template) -> str:
    """Deterministic JSON: troposphere sorts keys; no timestamps, no random values."""
    return template.to_json(indent=2) + "\n"


def render_all(config: Config) -> list[RenderedTemplate]:
    pairs = [
        (PRIMARY, build_primary(config), (config.primary_region,)),
        (REPLICA, build_replica(config), config.replica_regions),
        (STANDBY, build_standby(config), config.replica_regions),
        # The roles stack goes to the administrator account and to every target account.
        (STACKSET_ROLES, build_stackset_roles(config), config.regions),
        # Once per account and region: every target region of every target account.
        (ACCOUNT_BASELINE, build_account_baseline(config), config.regions),
        # One stack per API client, in the primary region (scripts/clients.py).
        (CLIENT, build_client(config), (config.primary_region,)),
    ]
    return [RenderedTemplate(name, render(t), regions, t) for name, t, regions in pairs]


def limit_notes(rendered: RenderedTemplate) -> list[str]:
    size = len(rendered.body.encode())
    resources = len(rendered.template.resources)
    notes = []
    if size > INLINE_BODY_LIMIT:
        notes.append(
            f"note: {rendered.file_name} is {size:,} bytes, over the {INLINE_BODY_LIMIT:,}-byte "
            "inline TemplateBody limit: deploy passes it by TemplateURL"
        )
    elif size > INLINE_BODY_LIMIT * WARN_AT:
        notes.append(
            f"warning: {rendered.file_name} is {size:,} bytes, near the {INLINE_BODY_LIMIT:,}-byte "
            "inline TemplateBody limit"
        )
    if size > TEMPLATE_URL_LIMIT * WARN_AT:
        notes.append(
            f"warning: {rendered.file_name} is {size:,} bytes, near CloudFormation's "
            f"{TEMPLATE_URL_LIMIT:,}-byte template limit"
        )
    if resources > RESOURCE_LIMIT * WARN_AT:
        notes.append(
            f"warning: {rendered.file_name} has {resources} resources, near CloudFormation's "
            f"limit of {RESOURCE_LIMIT}"
        )
    return notes


def _file_entry(data: bytes) -> dict[str, object]:
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def _template_entry(rendered: RenderedTemplate, findings: list[linting.Finding]) -> dict:
    template = rendered.template
    counts = Counter(resource.resource_type for resource in template.resources.values())
    return {
        "regions": list(rendered.regions),
        "resource_count": len(template.resources),
        "resources_by_type": dict(sorted(counts.items())),
        "parameters": sorted(template.parameters),
        "outputs": sorted(template.outputs),
        "lint": {
            "clean": not findings,
            "findings": [str(finding) for finding in findings],
        },
    }


def _write_atomically(path: Path, data: bytes) -> None:
    """A reader (deploy, a second build) never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; build outputs are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _side_files(config: Config, rendered: list[RenderedTemplate]) -> dict[str, bytes]:
    """The handler zip and REVIEW.md: they need no lint result."""
    return {
        HANDLER_ZIP: package.build_zip(),
        REVIEW: review.render_review(
            {item.file_name: (json.loads(item.body), list(item.regions)) for item in rendered},
            config.describe(),
        ).encode(),
    }


def _write_templates(
    result: BuildResult, rendered: list[RenderedTemplate], linted: list[lint_cache.Linted]
) -> tuple[dict[str, dict], dict[str, dict]]:
    """Each template written, its findings and limit notes recorded in ``result``; its manifest
    entry and its file entry, by file name."""
    templates: dict[str, dict] = {}
    files: dict[str, dict] = {}
    for item, lint in zip(rendered, linted, strict=True):
        result.lint_reused[item.file_name] = lint.reused
        result.findings.extend(lint.findings)
        result.notes.extend(limit_notes(item))
        templates[item.file_name] = _template_entry(item, lint.findings)
        data = item.body.encode()
        files[item.file_name] = _file_entry(data)
        _write_atomically(result.out / item.file_name, data)
    return templates, files


def build(
    config: Config,
    out: Path,
    *,
    use_lint_cache: bool = True,
    lint_cache_dir: Path | None = None,
    inputs_key: str = "",
) -> BuildResult:
    """``lint_cache_dir``: where lint results are kept (default ``lint_cache.default_directory``);
    ``use_lint_cache=False`` lints every template and leaves the cache as it is. ``inputs_key``
    (``up_to_date.inputs_key``) is recorded in the manifest for the next build to compare."""
    out.mkdir(parents=True, exist_ok=True)
    result = BuildResult(out=out)
    rendered = render_all(config)
    cache = (
        lint_cache.LintCache(lint_cache_dir or lint_cache.default_directory())
        if use_lint_cache
        else None
    )
    # Made first: the lint server (started by the CLI) is still loading cfn-lint's rules.
    side = _side_files(config, rendered)
    linted = lint_cache.lint_all(
        [linting.LintJob(item.file_name, item.body, item.regions) for item in rendered], cache
    )
    templates, files = _write_templates(result, rendered, linted)
    for name in (HANDLER_ZIP, REVIEW):
        _write_atomically(out / name, side[name])
        files[name] = _file_entry(side[name])

    result.manifest = {
        "config": config.describe(),
        "sources_sha256": sources_digest(),
        "handler_code_key": package.content_key(side[HANDLER_ZIP]),
        "inputs_key": inputs_key,
        "files": files,
        "templates": templates,
    }
    manifest_bytes = (json.dumps(result.manifest, indent=2, sort_keys=True) + "\n").encode()
    _write_atomically(out / MANIFEST, manifest_bytes)
    return result
