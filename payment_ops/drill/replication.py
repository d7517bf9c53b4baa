"""The recovery point of a failover: how far the secondary's table replica trails the primary.

Read from the metric the replication-latency alarm watches (``AWS/DynamoDB ReplicationLatency``,
published in the primary region per receiving region), over the last hour. Writes accepted by
the primary within that latency before it failed are not yet in the secondary's replica.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

WINDOW = timedelta(hours=1)
PERIOD_S = 300


@dataclass(frozen=True)
class Latency:
    receiving_region: str
    average_ms: float
    maximum_ms: float
    samples: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "receiving_region": self.receiving_region,
            "average": round(self.average_ms, 1),
            "maximum": round(self.maximum_ms, 1),
            "samples": self.samples,
            "window_minutes": int(WINDOW.total_seconds() // 60),
        }


def replication_latency(
    aws: Any,
    *,
    table: str,
    primary_region: str,
    receiving_region: str,
    now: datetime | None = None,
) -> Latency | None:
    """None when the metric has no data in the window (no writes, or no replication at all)."""
    # Up to the end of the current period, so that the period in progress counts too.
    end = (now or datetime.now(UTC)) + timedelta(seconds=PERIOD_S)
    points = aws.client("cloudwatch", primary_region).get_metric_statistics(
        Namespace="AWS/DynamoDB",
        MetricName="ReplicationLatency",
        Dimensions=[
            {"Name": "TableName", "Value": table},
            {"Name": "ReceivingRegion", "Value": receiving_region},
        ],
        StartTime=end - WINDOW,
        EndTime=end,
        Period=PERIOD_S,
        Statistics=["Average", "Maximum", "SampleCount"],
        Unit="Milliseconds",
    )["Datapoints"]
    samples = sum(int(p["SampleCount"]) for p in points)
    if not samples:
        return None
    # Each period's average weighted by its sample count: the average over the whole window.
    average = sum(p["Average"] * p["SampleCount"] for p in points) / samples
    return Latency(receiving_region, average, max(p["Maximum"] for p in points), samples)
