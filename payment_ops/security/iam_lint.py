"""parliament (an IAM policy linter) over every policy document in the templates.

Policies are first resolved to concrete ARNs (``resolve.Resolver``) so parliament can match each
action against a resource of the type it requires. Checked: role policies (identity policies)
and resource policies (key, bucket, topic policies). Trust policies are not parliament's
subject (it reports them all as lacking a Resource); the template tests pin them instead.

In a resource policy ``"Resource": "*"`` means the resource the policy is attached to, so
parliament's RESOURCE_STAR, which is about identity policies, does not apply there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from parliament import analyze_policy_string

from templates_src.iam import role_policy_documents

from .resolve import Resolver
from .result import ToolResult

RESOURCE_POLICY_PROPERTIES = {
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
}
NOT_FOR_RESOURCE_POLICIES = {"RESOURCE_STAR"}


def policy_documents(template: dict) -> Iterator[tuple[str, str, dict]]:
    """(logical id, kind, document) for every identity and resource policy."""
    for logical_id, resource in sorted(template.get("Resources", {}).items()):
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            # Inline and attached managed policies alike: a role's permissions, wherever written.
            for document in role_policy_documents(template, logical_id):
                yield logical_id, "identity", document
        elif resource["Type"] in RESOURCE_POLICY_PROPERTIES:
            yield logical_id, "resource", props[RESOURCE_POLICY_PROPERTIES[resource["Type"]]]


def _ignored(resource: dict) -> dict[str, str]:
    entries = resource.get("Metadata", {}).get("parliament", {}).get("ignore", [])
    return {entry["issue"]: entry.get("comment", "") for entry in entries}


def lint_policies(templates: dict[str, tuple[dict, str]]) -> ToolResult:
    """``templates`` maps a file name to (template, a region it is deployed to)."""
    result = ToolResult("parliament", 0, 0, 0, [])
    for file_name, (template, region) in sorted(templates.items()):
        resolver = Resolver(template, region)
        for logical_id, kind, document in policy_documents(template):
            ignored = _ignored(template["Resources"][logical_id])
            policy = analyze_policy_string(
                json.dumps(resolver.resolve(document)),
                ignore_private_auditors=True,
                include_community_auditors=False,
            )
            findings = [
                finding
                for finding in policy.findings
                if not (kind == "resource" and finding.issue in NOT_FOR_RESOURCE_POLICIES)
            ]
            suppressed = [f for f in findings if f.issue in ignored]
            failing = [f for f in findings if f.issue not in ignored]
            result.skipped += len(suppressed)
            if failing:
                result.failed += len(failing)
                result.details += [
                    f"{file_name}: {logical_id} ({kind} policy): {f.issue} {_short(f.detail)}"
                    for f in failing
                ]
            else:
                result.passed += 1
    return result


def _short(detail: object, limit: int = 300) -> str:
    text = str(detail)
    return text if len(text) <= limit else text[:limit] + " ..."
