"""The updates a global table change must be split into, one replica per update.

AWS CloudFormation Template Reference, "AWS::DynamoDB::GlobalTable": "You can only add or remove
a single replica in each update", and an update that adds or removes a replica changes nothing
else of the table. A deploy that adds (or removes) two regions at once would fail the primary
stack's update, so it becomes a sequence: one update per replica, each made from the template
the stack set holds by editing only the table's ``Replicas`` list, then one update with the rest
(the template deploy wants).

Reading only: templates in, templates out; ``stacksets.sync_in_steps`` carries them out and the
plan shows them.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

GLOBAL_TABLE = "AWS::DynamoDB::GlobalTable"


@dataclass(frozen=True)
class Step:
    """One intermediate update: what it does, and the whole template it deploys."""

    description: str
    template: dict[str, Any]


def _region(replica: dict[str, Any]) -> str:
    region = replica.get("Region")
    return region if isinstance(region, str) else json.dumps(region, sort_keys=True)


def _replicas(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {_region(r): r for r in (resource.get("Properties") or {}).get("Replicas") or []}


def replica_steps(old: dict[str, Any], new: dict[str, Any]) -> list[Step]:
    """The intermediate updates from ``old`` to ``new`` (empty when one update is allowed).

    None are needed when no global table gains or loses a replica, or when one table gains or
    loses exactly one replica and nothing else of that table changes. Otherwise each replica
    change is one step (additions first, in region order, then removals), and what else changes
    comes with the final update, the template deploy wants.
    """
    current = copy.deepcopy(old)
    steps: list[Step] = []
    for logical_id, wanted in sorted((new.get("Resources") or {}).items()):
        held = (current.get("Resources") or {}).get(logical_id)
        if wanted.get("Type") != GLOBAL_TABLE or held is None or held.get("Type") != GLOBAL_TABLE:
            continue
        before, after = _replicas(held), _replicas(wanted)
        added = sorted(set(after) - set(before))
        removed = sorted(set(before) - set(after))
        if not added and not removed:
            continue
        if len(added) + len(removed) == 1:
            alone = copy.deepcopy(held)
            alone["Properties"]["Replicas"] = (wanted.get("Properties") or {}).get("Replicas")
            if alone == wanted:
                continue  # one replica and nothing else: the final update may do it
        replicas = held["Properties"].setdefault("Replicas", [])
        for region in added:
            replicas.append(copy.deepcopy(after[region]))
            steps.append(
                Step(f"{logical_id}: add replica {region}, nothing else", copy.deepcopy(current))
            )
        for region in removed:
            replicas[:] = [r for r in replicas if _region(r) != region]
            steps.append(
                Step(f"{logical_id}: remove replica {region}, nothing else", copy.deepcopy(current))
            )
    if steps and steps[-1].template == new:
        steps.pop()  # the last replica change is all that was left: the final update does it
    return steps
