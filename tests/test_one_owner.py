"""One owner per fact: no shared name, parameter or key layout is written outside its owner.

The owners: ``templates_src/names.py`` (resource names, parameter, output and tag names,
stack-set and stack names) and ``handler/audit_key.py`` (the audit object key layout). A name
written again elsewhere drifts the day the owner changes, and the deploy that looks for the old
name finds nothing; so the sources of the generator, the tools, the emulator, the local API,
the drill and the benchmarks are read here, and every spelling outside the owner fails.
"""

from __future__ import annotations

import ast
import configparser
import re
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


# The Lambda package may import nothing from the tooling (handler/), and taskcat's interpreter
# cannot (OWN_INTERPRETER): a name made of the prefix there is a copy, held to the owner's
# value by the copy tests below.
CANNOT_IMPORT_THE_OWNER = (Path("handler"), *OWN_INTERPRETER)
# Written like a name and none of ours: the console commands, whose owner is setup.cfg's entry
# points (the payment-templates cache folder is that command's), and what a tool calls itself
# to others after the command it runs in.
_SETUP = configparser.ConfigParser()
_SETUP.read(ROOT / "setup.cfg", encoding="utf-8")
PROGRAMS = {
    line.split("=")[0].strip()
    for line in _SETUP["options.entry_points"]["console_scripts"].splitlines()
    if "=" in line
}
NOT_OUR_NAMES = {
    "payment-failover-drill",  # the drill's HTTP User-Agent (payment_ops/drill/probes.py)
    "payment-deploy-outputs",  # deploy's STS session name (payment_ops/deployment/aws.py)
}
_NOT_OURS = re.compile(
    rf"(?<![\w-])({'|'.join(map(re.escape, sorted(PROGRAMS | NOT_OUR_NAMES, key=len)[::-1]))})"
    r"(?![\w-])"
)
# A wildcard over our names (payment-*, payment-*-audit-*, .../payment-*/*), a name's prefix
# for a prefix match (ends in payment-), and a name (payment-permissions-boundary), each where
# a name starts: at the start, or after a separator (/, :, -, a space).
_WILDCARD = re.compile(rf"(?<!\w){names.PREFIX}-[\w./*-]*\*")
_PREFIX_ONLY = re.compile(rf"(?<!\w){names.PREFIX}-$")
_NAME = re.compile(rf"(?<!\w){names.PREFIX}-[a-z]")
_PARAMETER = re.compile(rf"/{names.PREFIX}/(\$\{{|\*)")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string nodes that are docstrings or bare comments-as-strings (an f-string's
    parts included)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant | ast.JoinedStr):
            found |= {id(part) for part in ast.walk(node.value)}
    return found


def _formula_parts(tree: ast.AST, skip: set[int]) -> dict[int, int]:
    """The f-string parts that spell the payment-<suffix> formula, ``f"payment-{suffix}"``:
    the id of each such text part, with the line of its f-string."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and id(node) not in skip:
            for part, following in zip(node.values, node.values[1:], strict=False):
                if (
                    isinstance(part, ast.Constant)
                    and str(part.value).endswith(names.NAME_PREFIX)
                    and isinstance(following, ast.FormattedValue)
                ):
                    found[id(part)] = node.lineno
    return found


def _prefix_repeats(text: str, where: str, formula: bool) -> list[str]:
    """The names derived from PREFIX that ``text`` spells: a wildcard, a prefix, a name, an SSM
    parameter path (``formula``: it is the start of an f-string's ``payment-{...}``, reported as
    that)."""
    text = _NOT_OURS.sub("", text)
    found = []
    if _WILDCARD.search(text):
        found.append(f"{where}: {text!r} spells a wildcard over the names (names.ANY_NAME)")
    if _PREFIX_ONLY.search(text) and not formula:
        found.append(f"{where}: {text!r} spells the names' prefix (names.NAME_PREFIX)")
    if _NAME.search(text):
        found.append(f"{where}: {text!r} spells a name (names.py)")
    if _PARAMETER.search(text):
        found.append(f"{where}: {text!r} spells the parameters' path (names.parameter)")
    return found


def repeats(source: str, path: Path) -> list[str]:
    """What ``source`` writes again that its owner holds: a payment-<suffix> formula, a
    wildcard, prefix or name made of the prefix, a shared parameter, output or stack name, the
    audit key prefix."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    owner = path == NAMES_OWNER
    copies = owner or any(path.is_relative_to(folder) for folder in CANNOT_IMPORT_THE_OWNER)
    formula = _formula_parts(tree, skip)
    found = (
        []
        if owner
        else [f"{path}:{line}: f-string {names.PREFIX}-{{...}}" for line in formula.values()]
    )
    for node in ast.walk(tree):
        if (
            id(node) in skip
            or not isinstance(node, ast.Constant)
            or not isinstance(node.value, str)
        ):
            continue
        text, where = node.value, f"{path}:{node.lineno}"
        if f"{names.PREFIX}-${{" in text and not owner:
            found.append(f"{where}: {text!r} spells a name's Fn::Sub")
        elif text in SHARED_STRINGS and path not in (NAMES_OWNER, *OWN_INTERPRETER):
            found.append(f"{where}: {text!r} is the names module's")
        elif not copies:
            found += _prefix_repeats(text, where, id(node) in formula)
        if audit_key.AUDIT_KEY_PREFIX in text and path != KEY_OWNER:
            found.append(f"{where}: {text!r} spells the audit key layout")
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
        # Made of the prefix: a wildcard, a prefix match, a whole name, the parameters' path.
        'ROLES = f"arn:${{AWS::Partition}}:iam::*:role/payment-*"\n'
        'PATTERN = {"roleName": [{"prefix": "payment-"}]}\n'
        'BOUNDARY = "payment-permissions-boundary"\n'
        'PARAMETER = "/payment/${EnvironmentSuffix}/table-name"\n'
    )
    found = repeats(source, Path("payment_ops/example.py"))
    assert len(found) == 11, found
    # Not ours: the console commands, the tools' names for themselves, prose about a formula;
    # the handler's copies are checked against the owner instead (test below).
    not_ours = (
        'def parser(prog="payment-deploy"): ...\n'
        'HEADERS = {"User-Agent": "payment-failover-drill"}\n'
        'HELP = "names every resource payment-<suffix>-<thing>"\n'
    )
    assert repeats(not_ours, Path("payment_ops/example.py")) == []
    assert repeats('CA_COMMON_NAME_PREFIX = "payment-client-ca-"', Path("handler/x.py")) == []
    # The owner itself may write them; AWS's own field names are not ours.
    assert repeats('n = f"payment-{suffix}-{thing}"\nANY = "payment-*"', NAMES_OWNER) == []
    assert repeats('t = describe(TableName="x")["TableName"]', Path("payment_ops/x.py")) == []


def _string_constants(path: Path) -> dict[str, str]:
    """The module-level ``NAME = "text"`` assignments of ``path``."""
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            found |= {t.id: node.value.value for t in node.targets if isinstance(t, ast.Name)}
    return found


def test_the_copies_taskcat_needs_are_the_owners_names():
    """The two files taskcat imports in its own interpreter cannot import the owner, so they
    keep copies, as module constants named ``*_PARAMETER``; each copy must still be the value
    of the owner's constant of the same meaning, so a renamed parameter fails here."""
    owned = {"SUFFIX": names.SUFFIX_PARAM, "CODE_KEY": names.CODE_KEY_PARAM}
    owned["CODE_BUCKET"] = names.ARTIFACT_BUCKET_PARAM
    seen = {
        f"{path.name}:{constant}": (constant, value)
        for path in OWN_INTERPRETER
        for constant, value in _string_constants(ROOT / path).items()
        if constant.endswith("_PARAMETER")
    }
    assert seen, "the copies moved: update this test"
    for where, (constant, value) in seen.items():
        meaning = constant.removesuffix("_PARAMETER")
        assert meaning in owned, f"{where}: no owner constant for {constant}"
        assert value == owned[meaning], f"{where}: {value!r}, the owner says {owned[meaning]!r}"


# The handler's copies of names made of the prefix (the Lambda package imports nothing from the
# tooling), each with the owner's name of the same fact.
HANDLER_COPIES = {"CA_COMMON_NAME_PREFIX": names.CLIENT_CA_PREFIX}


def test_the_handlers_copies_are_the_owners_names():
    """Every module constant of handler/ whose value is made of the prefix is a copy that must
    equal the owner's value, so a renamed prefix fails here rather than every mTLS request."""
    seen = {
        f"{file.name}:{constant}": (constant, value)
        for file in sorted((ROOT / "handler").rglob("*.py"))
        for constant, value in _string_constants(file).items()
        if value.startswith(names.NAME_PREFIX)
    }
    assert seen, "the copies moved: update this test"
    for where, (constant, value) in seen.items():
        assert constant in HANDLER_COPIES, f"{where}: {value!r} has no owner (names.py)"
        owned = HANDLER_COPIES[constant]
        assert value == owned, f"{where}: {value!r}, the owner says {owned!r}"
