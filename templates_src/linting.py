"""cfn-lint through its Python API: every rule, informational ones included, every region."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from cfnlint.api import ManualArgs, lint

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


def lint_template(file_name: str, body: str, regions: Sequence[str]) -> list[Finding]:
    matches = lint(
        body,
        config=ManualArgs(
            regions=list(regions),
            include_checks=["I"],
            configure_rules=RULE_CONFIGURATION,
        ),
    )
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
