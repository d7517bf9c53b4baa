"""Where a deployment of one suffix lives, found from what AWS holds rather than from flags.

Stack sets are regional: each lives in the region it was created in (deploy creates them in
the primary region, the administrator region of the deployment), so a deployment made with
another ``--primary-region`` is invisible to a run that only looks in its own. Here every
region enabled for the account is searched for the suffix's stack sets (and, for a purge, for
any stack of theirs), so deploy can refuse a different layout and delete can refuse to purge
data that something still uses.

Sources: "DescribeRegions" (EC2 API Reference: without ``AllRegions`` only the Regions enabled
for the account, each with its ``OptInStatus``), "ListStackSets" and "ListStackInstances"
(CloudFormation API Reference), and "Stack set operation options"/"StackSets concepts" in the
CloudFormation User Guide (the administrator account and Region a stack set is created in; the
instance stacks are named ``StackSet-<stack set name>-<id>``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import names, stacksets
from .aws import Aws

# Regions the account may use: opt-in regions only once opted in.
ENABLED = ("opt-in-not-required", "opted-in")


@dataclass(frozen=True)
class StackSetFound:
    kind: str  # one of names.DEPLOY_ORDER
    name: str
    region: str  # where the stack set itself lives
    instances: tuple[tuple[str, str, str], ...]  # (account, region, stack id)

    def instance_regions(self) -> list[str]:
        return sorted({region for _, region, _ in self.instances})

    def describe(self) -> str:
        where = ", ".join(self.instance_regions()) or "none"
        return f"stack set {self.name} in {self.region} (instances: {where})"


@dataclass(frozen=True)
class StackFound:
    name: str
    region: str
    stack_id: str
    status: str

    def describe(self) -> str:
        return f"stack {self.name} ({self.status}) in {self.region}"


@dataclass(frozen=True)
class Found:
    stack_sets: tuple[StackSetFound, ...]
    stacks: tuple[StackFound, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.stack_sets or self.stacks)

    def admin_regions(self) -> list[str]:
        return sorted({s.region for s in self.stack_sets})

    def layout(self) -> tuple[str | None, list[str]]:
        """(primary region, replica regions) as the stack sets' instances say."""
        primary = [r for s in self.stack_sets if s.kind == "primary" for r in s.instance_regions()]
        replicas = sorted(
            {r for s in self.stack_sets if s.kind != "primary" for r in s.instance_regions()}
        )
        if not self.stack_sets:  # stacks outside any stack set have no layout
            return None, []
        return (primary[0] if primary else self.admin_regions()[0]), replicas

    def describe(self) -> str:
        return "; ".join(
            [s.describe() for s in self.stack_sets] + [s.describe() for s in self.stacks]
        )

    def without(self, region: str) -> Found:
        """What lives outside the stack sets of ``region`` and their instances' stacks."""
        kept = tuple(s for s in self.stack_sets if s.region != region)
        theirs = {i[2] for s in self.stack_sets if s.region == region for i in s.instances}
        return Found(kept, tuple(s for s in self.stacks if s.stack_id not in theirs))


def enabled_regions(aws: Aws, region: str) -> list[str]:
    """Every region enabled for the account, ``region`` (the one asked from) among them."""
    found = aws.client("ec2", region).describe_regions(
        Filters=[{"Name": "opt-in-status", "Values": list(ENABLED)}]
    )["Regions"]
    # The filter is applied here too: what is not enabled cannot hold a deployment.
    enabled = {r["RegionName"] for r in found if r.get("OptInStatus", ENABLED[0]) in ENABLED}
    return sorted(enabled | {region})


def stack_sets_in(aws: Aws, suffix: str, region: str) -> list[StackSetFound]:
    """The suffix's stack sets that live in ``region``, with their instances."""
    cfn = aws.client("cloudformation", region)
    wanted = {names.stack_set(suffix, kind): kind for kind in names.DEPLOY_ORDER}
    found = []
    for page in cfn.get_paginator("list_stack_sets").paginate(Status="ACTIVE"):
        for summary in page.get("Summaries", []):
            name = summary["StackSetName"]
            # Filtered again: a deleted stack set is listed with Status DELETED.
            if name not in wanted or summary.get("Status", "ACTIVE") != "ACTIVE":
                continue
            instances = tuple(
                (i["Account"], i["Region"], i.get("StackId", ""))
                for i in stacksets.list_instances(cfn, name)
            )
            found.append(StackSetFound(wanted[name], name, region, instances))
    return sorted(found, key=lambda s: names.DEPLOY_ORDER.index(s.kind))


def stacks_in(aws: Aws, suffix: str, region: str) -> list[StackFound]:
    """Stacks of the suffix's stack sets in ``region`` (by name), and any other stack tagged
    with the suffix and the project (a stack set's tags are its stacks' tags)."""
    pattern = re.compile(
        "^"
        + re.escape(names.stack_instance_prefix(names.stack_set(suffix, "")))
        + f"({'|'.join(names.DEPLOY_ORDER)})-"
    )
    found = []
    cfn = aws.client("cloudformation", region)
    for page in cfn.get_paginator("describe_stacks").paginate():
        for stack in page.get("Stacks", []):
            if stack["StackStatus"] == "DELETE_COMPLETE":
                continue
            tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
            ours = tags.get(names.SUFFIX_TAG) == suffix and (
                tags.get(names.PROJECT_TAG[0]) == names.PROJECT_TAG[1]
            )
            if ours or pattern.match(stack["StackName"]):
                found.append(
                    StackFound(stack["StackName"], region, stack["StackId"], stack["StackStatus"])
                )
    return found


def find(aws: Aws, suffix: str, region: str, *, stacks: bool = False) -> Found:
    """The suffix's stack sets in every enabled region (and, with ``stacks``, every stack of
    the suffix there), asked from ``region``."""
    stack_sets: list[StackSetFound] = []
    found_stacks: list[StackFound] = []
    for where in enabled_regions(aws, region):
        stack_sets += stack_sets_in(aws, suffix, where)
        if stacks:
            found_stacks += stacks_in(aws, suffix, where)
    return Found(tuple(stack_sets), tuple(found_stacks))


def layout_flags(found: Found) -> str:
    """The flags that name the layout found, for a message."""
    primary, replicas = found.layout()
    flags = [f"--primary-region {primary}"] if primary else []
    flags += [f"--replica-regions {','.join(replicas)}"] if replicas else []
    return " ".join(flags)
