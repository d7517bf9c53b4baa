"""CloudWatch: metric and metric-math alarms."""

from __future__ import annotations

from moto.cloudwatch.models import (
    Dimension,
    Metric,
    MetricDataQuery,
    MetricStat,
    cloudwatch_backends,
)
from moto.core.common_models import CloudFormationModel

from .base import ProjectModel


class CloudWatchAlarm(ProjectModel, CloudFormationModel):
    """A metric alarm or a metric-math alarm; an update overwrites it in place, as in AWS."""

    TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"
    ATTRIBUTES = ("Arn",)

    @staticmethod
    def _queries(metrics: list[dict] | None) -> list[MetricDataQuery] | None:
        if not metrics:
            return None
        queries = []
        for query in metrics:
            stat = query.get("MetricStat")
            metric_stat = None
            if stat:
                metric = stat["Metric"]
                metric_stat = MetricStat(
                    metric=Metric(
                        metric_name=metric["MetricName"],
                        namespace=metric["Namespace"],
                        dimensions=[
                            Dimension(d["Name"], d["Value"]) for d in metric.get("Dimensions", [])
                        ],
                    ),
                    period=stat.get("Period"),
                    stat=stat.get("Stat"),
                    unit=stat.get("Unit"),
                )
            queries.append(
                MetricDataQuery(
                    query_id=query["Id"],
                    label=query.get("Label"),
                    period=query.get("Period"),
                    return_data=query.get("ReturnData"),
                    expression=query.get("Expression"),
                    metric_stat=metric_stat,
                )
            )
        return queries

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> CloudWatchAlarm:
        alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=resource_name,
            namespace=props.get("Namespace"),
            metric_name=props.get("MetricName"),
            comparison_operator=props["ComparisonOperator"],
            evaluation_periods=props["EvaluationPeriods"],
            period=props.get("Period"),
            threshold=props.get("Threshold"),
            statistic=props.get("Statistic"),
            description=props.get("AlarmDescription"),
            dimensions=props.get("Dimensions", []),
            alarm_actions=props.get("AlarmActions", []),
            metric_data_queries=cls._queries(props.get("Metrics")),
            datapoints_to_alarm=props.get("DatapointsToAlarm"),
            extended_statistic=props.get("ExtendedStatistic"),
            ok_actions=props.get("OKActions", []),
            insufficient_data_actions=props.get("InsufficientDataActions", []),
            unit=props.get("Unit"),
            actions_enabled=props.get("ActionsEnabled", True),
            treat_missing_data=props.get("TreatMissingData"),
            tags=props.get("Tags", []),
        )
        return cls(resource_name, account_id, region_name, Arn=alarm.alarm_arn)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: CloudWatchAlarm,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> CloudWatchAlarm:
        if new_resource_name != original_resource.physical_id:
            original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([self.physical_id])
