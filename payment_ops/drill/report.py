"""The drill's result: a short table for people, a JSON file for programs. Ids, names and counts
only: never a client session's secret key or any other secret."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from payment_ops.deployment import names

from .discovery import Deployment
from .probes import PaymentCounts
from .replication import Latency


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str = ""


@dataclass
class Report:
    mode: str  # emulator | aws
    environment_suffix: str
    primary_region: str
    secondary_region: str
    deployment: Deployment | None = None
    checks: list[Check] = field(default_factory=list)
    seconds_to_failover: float | None = None
    seconds_to_failback: float | None = None
    payments: PaymentCounts | None = None
    replication_latency: Latency | None = None  # the recovery point, from the alarm's metric
    exit_code: int = 0

    def check(self, name: str, passed: bool, detail: str = "") -> bool:
        self.checks.append(Check(name, passed, detail))
        return passed

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        d = self.deployment
        return {
            "mode": self.mode,
            "environment_suffix": self.environment_suffix,
            "regions": {"primary": self.primary_region, "secondary": self.secondary_region},
            "domain": d.domain_name if d else None,
            "hosted_zone_id": d.hosted_zone_id if d else None,
            "health_check_ids": {
                "primary": d.primary.health_check_id if d else None,
                "secondary": d.secondary.health_check_id if d else None,
            },
            "seconds_to_failover": _rounded(self.seconds_to_failover),
            "seconds_to_failback": _rounded(self.seconds_to_failback),
            "payments": self.payments.as_dict() if self.payments else None,
            "replication_latency_ms": (
                self.replication_latency.as_dict() if self.replication_latency else None
            ),
            "checks": [
                {"name": c.name, "result": "pass" if c.passed else "fail", "detail": c.detail}
                for c in self.checks
            ],
            "result": "pass" if self.passed and self.exit_code == 0 else "fail",
            "exit_code": self.exit_code,
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n")

    def print_table(self, out: TextIO) -> None:
        d = self.deployment
        print("", file=out)
        print(
            f"failover drill ({self.mode}): {names.deployment(self.environment_suffix)}, "
            f"{d.domain_name if d else 'domain unknown'}",
            file=out,
        )
        for label, region, side in (
            ("primary", self.primary_region, d.primary if d else None),
            ("secondary", self.secondary_region, d.secondary if d else None),
        ):
            check_id = side.health_check_id if side else "?"
            print(f"  {label:<9} {region:<15} health check {check_id}", file=out)
        width = max([len(c.name) for c in self.checks] + [5])
        for c in self.checks:
            mark = "pass" if c.passed else "FAIL"
            print(f"  {c.name:<{width}}  {mark}  {c.detail}".rstrip(), file=out)
        if self.mode == "aws":
            print(
                f"  seconds to failover: {_text(self.seconds_to_failover)}, to failback: "
                f"{_text(self.seconds_to_failback)}",
                file=out,
            )
        latency = self.replication_latency
        print(
            f"  replication latency to {self.secondary_region} (recovery point, last hour): "
            + (
                f"average {latency.average_ms:.0f} ms, maximum {latency.maximum_ms:.0f} ms"
                if latency
                else "no data"
            ),
            file=out,
        )
        if self.payments is not None:
            p = self.payments
            print(
                f"  payments: {p.sent} sent, {p.accepted} accepted, {p.found_in_table} in the "
                f"table, {p.found_in_audit_bucket} in the audit bucket ({self.secondary_region})",
                file=out,
            )
        verdict = "PASS" if self.passed and self.exit_code == 0 else "FAIL"
        print(f"result: {verdict} (exit {self.exit_code})", file=out, flush=True)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _text(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"
