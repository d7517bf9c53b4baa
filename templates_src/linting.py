"""cfn-lint through its Python API: every rule, informational ones included, every region."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from cfnlint.config import ConfigMixIn, ManualArgs
from cfnlint.decode.decode import decode_str
from cfnlint.rules import Rules
from cfnlint.runner import Runner, run_template_by_data

# ARNs must be built from pseudo parameters (or named Sub variables): no hand-typed partition,
# region or account id anywhere.
RULE_CONFIGURATION = {"I3042": {"partition": True, "region": True, "accountId": True}}


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    column: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.rule} {self.message}"


@lru_cache(maxsize=1)
def _rules() -> Rules:
    """cfn-lint's rules, loaded once per process: loading them costs more than linting a
    template. (``cfnlint.api.lint`` only reuses a ``RulesCollection``, which the runner's
    ``Rules`` is not, so it would reload them for every template.) The checks to include and the
    rule configuration are applied per run."""
    return Runner(ConfigMixIn(regions=["us-east-1"])).rules


def lint_template(file_name: str, body: str, regions: Sequence[str]) -> list[Finding]:
    template, matches = decode_str(body)
    if not matches:
        config = ConfigMixIn(
            **ManualArgs(
                regions=list(regions),
                include_checks=["I"],
                configure_rules=RULE_CONFIGURATION,
            )
        )
        matches = list(run_template_by_data(template, config, _rules()))
    findings = {
        Finding(
            file=file_name,
            line=match.linenumber,
            column=match.columnnumber,
            rule=match.rule.id,
            message=match.message,
        )
        for match in matches
    }
    return sorted(findings, key=lambda f: (f.line, f.column, f.rule, f.message))
