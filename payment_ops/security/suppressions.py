"""Every suppression in the templates must carry a written reason."""

from __future__ import annotations

from collections.abc import Iterator

from templates_src.common import CFN_LINT_REASONS, GUARD_REASONS


def _missing(logical_id: str, metadata: dict) -> Iterator[str]:
    for entry in metadata.get("checkov", {}).get("skip", []):
        if not str(entry.get("comment", "")).strip():
            yield f"{logical_id}: checkov skip {entry.get('id')} has no comment"
    reasons = metadata.get(CFN_LINT_REASONS, {})
    for check in metadata.get("cfn-lint", {}).get("config", {}).get("ignore_checks", []):
        if not str(reasons.get(check, "")).strip():
            yield f"{logical_id}: cfn-lint ignore {check} has no reason in {CFN_LINT_REASONS}"
    for entry in metadata.get("parliament", {}).get("ignore", []):
        if not str(entry.get("comment", "")).strip():
            yield f"{logical_id}: parliament ignore {entry.get('issue')} has no comment"
    guard_reasons = metadata.get(GUARD_REASONS, {})
    for rule in metadata.get("guard", {}).get("SuppressedRules", []):
        if not str(guard_reasons.get(rule, "")).strip():
            yield f"{logical_id}: guard rule {rule} suppressed without a reason in {GUARD_REASONS}"


def unexplained(template: dict) -> list[str]:
    problems = list(_missing("(template)", template.get("Metadata", {})))
    for logical_id, resource in sorted(template.get("Resources", {}).items()):
        problems += _missing(logical_id, resource.get("Metadata", {}))
    return problems


def listed(template: dict) -> list[tuple[str, str, str, str]]:
    """(resource, tool, check, reason) for every suppression, for the gate's report."""
    rows = []
    for logical_id, resource in sorted(template.get("Resources", {}).items()):
        metadata = resource.get("Metadata", {})
        for entry in metadata.get("checkov", {}).get("skip", []):
            rows.append((logical_id, "checkov", entry.get("id", ""), entry.get("comment", "")))
        reasons = metadata.get(CFN_LINT_REASONS, {})
        for check in metadata.get("cfn-lint", {}).get("config", {}).get("ignore_checks", []):
            rows.append((logical_id, "cfn-lint", check, reasons.get(check, "")))
        for entry in metadata.get("parliament", {}).get("ignore", []):
            rows.append(
                (logical_id, "parliament", entry.get("issue", ""), entry.get("comment", ""))
            )
        guard_reasons = metadata.get(GUARD_REASONS, {})
        for rule in metadata.get("guard", {}).get("SuppressedRules", []):
            rows.append((logical_id, "guard", rule, guard_reasons.get(rule, "")))
    return rows
