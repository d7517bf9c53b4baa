"""One owner per fact: no shared name, parameter or key layout is written outside its owner.

The owners: ``templates_src/names.py`` (resource names, parameter, output and tag names,
stack-set and stack names) and ``handler/audit_key.py`` (the audit object key layout). A name
written again elsewhere drifts the day the owner changes, and the deploy that looks for the old
name finds nothing; so the sources of the generator, the tools, the emulator, the local API,
the drill and the benchmarks are read here, and every spelling outside the owner fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

from handler import audit_key
from templates_src import names

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("templates_src", "payment_ops", "handler", "benchmarks", "scripts")
NAMES_OWNER = Path("templates_src/names.py")
KEY_OWNER = Path("handler/audit_key.py")
# taskcat imports these from taskcat's own virtual environment, where the project is not
# installed, so they cannot import the owner (payment_ops/commands/run_taskcat.py).
OWN_INTERPRETER = (
    Path("payment_ops/taskcat_support/runner.py"),
    Path("payment_ops/taskcat_support/taskcat_plugin_payment_replica_prerequisites.py"),
)
# Output names that are also AWS's own property or API field names (a DynamoDB TableName, a
# Route 53 HealthCheckId, ...): written elsewhere they name AWS's field, not our output.
AWS_FIELD_NAMES = {"TableName", "HealthCheckId", "RegionalDomainName", "ApiId"}
SHARED_STRINGS = {
    value
    for key, value in vars(names).items()
    if key.endswith(("_PARAM", "_OUTPUT")) and value not in AWS_FIELD_NAMES
} | {names.ROLES_STACK, names.ACCOUNT_BASELINE_STACK_SET, names.STACK_INSTANCE_PREFIX}


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string nodes that are docstrings or bare comments-as-strings."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant | ast.JoinedStr)
    }


def repeats(source: str, path: Path) -> list[str]:
    """What ``source`` writes again that its owner holds: a payment-<suffix> formula, a shared
    parameter, output or stack name, the audit key prefix."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.JoinedStr):
            for part, following in zip(node.values, node.values[1:], strict=False):
                if (
                    isinstance(part, ast.Constant)
                    and str(part.value).endswith(f"{names.PREFIX}-")
                    and isinstance(following, ast.FormattedValue)
                    and path != NAMES_OWNER
                ):
                    found.append(f"{path}:{node.lineno}: f-string {names.PREFIX}-{{...}}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if f"{names.PREFIX}-${{" in text and path != NAMES_OWNER:
                found.append(f"{path}:{node.lineno}: {text!r} spells a name's Fn::Sub")
            if text in SHARED_STRINGS and path not in (NAMES_OWNER, *OWN_INTERPRETER):
                found.append(f"{path}:{node.lineno}: {text!r} is the names module's")
            if audit_key.AUDIT_KEY_PREFIX in text and path != KEY_OWNER:
                found.append(f"{path}:{node.lineno}: {text!r} spells the audit key layout")
    return found


def test_no_shared_name_is_written_outside_its_owner():
    found = []
    for folder in SCANNED:
        for file in sorted((ROOT / folder).rglob("*.py")):
            path = file.relative_to(ROOT)
            found += repeats(file.read_text(encoding="utf-8"), path)
    assert found == []


def test_the_scan_sees_each_kind_of_repeat():
    """The scan is only as good as what it recognises: each way a name used to be re-spelled
    in the tools is found."""
    source = (
        'def table(suffix):\n    return f"payment-{suffix}-payments"\n'
        'SUB = "payment-${EnvironmentSuffix}-api"\n'
        'PARAMETERS = {"HandlerCodeKey": "k", "EnvironmentSuffix": "dev"}\n'
        'URL = outputs["ApiUrl"]\n'
        'KEY = f"payments/{day}/{payment_id}.json"\n'
        'STACK = "payment-stackset-roles"\n'
    )
    found = repeats(source, Path("payment_ops/example.py"))
    assert len(found) == 7, found
    # The owner itself may write them; AWS's own field names are not ours.
    assert repeats('n = f"payment-{suffix}-{thing}"', NAMES_OWNER) == []
    assert repeats('t = describe(TableName="x")["TableName"]', Path("payment_ops/x.py")) == []


def test_the_copies_taskcat_needs_are_the_owners_names():
    """The two files taskcat imports in its own interpreter cannot import the owner, so they
    keep copies, as module constants named ``*_PARAMETER``; each copy must still be the value
    of the owner's constant of the same meaning, so a renamed parameter fails here."""
    owned = {"SUFFIX": names.SUFFIX_PARAM, "CODE_KEY": names.CODE_KEY_PARAM}
    owned["CODE_BUCKET"] = names.ARTIFACT_BUCKET_PARAM
    seen = {}
    for path in OWN_INTERPRETER:
        for node in ast.parse((ROOT / path).read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id.endswith("_PARAMETER"):
                        seen[f"{path.name}:{target.id}"] = (target.id, node.value.value)
    assert seen, "the copies moved: update this test"
    for where, (constant, value) in seen.items():
        meaning = constant.removesuffix("_PARAMETER")
        assert meaning in owned, f"{where}: no owner constant for {constant}"
        assert value == owned[meaning], f"{where}: {value!r}, the owner says {owned[meaning]!r}"
