"""CloudWatch Logs: metric filters (moto's CloudFormation has no ``AWS::Logs::MetricFilter``)."""

from __future__ import annotations

from moto.core.common_models import CloudFormationModel
from moto.logs.models import logs_backends

from .base import ProjectModel, already_gone


class LogsMetricFilter(ProjectModel, CloudFormationModel):
    """A metric filter on a log group; ``Ref`` gives the filter name (AWS::Logs::MetricFilter,
    CloudFormation template reference). The filter is stored, not evaluated."""

    TYPE = "AWS::Logs::MetricFilter"
    NAME_PROPERTY = "FilterName"

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> LogsMetricFilter:
        name = props.get("FilterName") or resource_name
        transformations = [
            {
                "metricName": t["MetricName"],
                "metricNamespace": t["MetricNamespace"],
                "metricValue": t["MetricValue"],
                **({"defaultValue": t["DefaultValue"]} if "DefaultValue" in t else {}),
            }
            for t in props["MetricTransformations"]
        ]
        logs_backends[account_id][region_name].put_metric_filter(
            name, props.get("FilterPattern", ""), props["LogGroupName"], transformations
        )
        resource = cls(name, account_id, region_name)
        resource.log_group_name = props["LogGroupName"]
        return resource

    def delete(self, account_id: str, region_name: str) -> None:
        with already_gone():
            logs_backends[account_id][region_name].delete_metric_filter(
                self.physical_id, self.log_group_name
            )
